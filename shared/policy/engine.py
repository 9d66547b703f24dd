"""The decision: is the team activated, under which criteria, with how many specialists.

Pure: `decide` reads only the report and the agency's loaded configuration (CONTRACT §4).
"""

from __future__ import annotations

from shared.incident_report import IncidentReport
from shared.policy.conditions import Evidence
from shared.policy.model import AgencyConfig, Criterion, Decision, Policy, Status

Match = tuple[Criterion, Evidence]


def decide(report: IncidentReport, agency: AgencyConfig) -> Decision:
    """Apply the agency's policy to the report.

    The status is settled in this order: `directed_by_chief` → activate; no criterion matched →
    not_covered; a location outside the agency's area → outside_area; a matched criterion that
    needs no consent, or `consent_given` → activate; else awaiting_consent.
    """
    if report.agency != agency.slug:
        raise ValueError(f"the report is for agency {report.agency!r}, not {agency.slug!r}")
    policy = agency.policy
    matches = [
        (criterion, evidence)
        for criterion in policy.criteria
        if (evidence := criterion.condition(report)) is not None
    ]
    # Only a matched or directed incident needs the (geometric) area check.
    inside = _inside_area(report, agency) if matches or report.directed_by_chief else True
    status = _status(report, matches, inside=inside)
    activate = status is Status.ACTIVATE
    specialists = agency.specialists.per_incident + report.additional_specialists if activate else 0
    reasons = [_criterion_reason(policy, criterion, evidence) for criterion, evidence in matches]
    reasons.append(_status_reason(status, report, agency, matches, inside=inside))
    reasons.append(_specialists_reason(specialists, report, agency))
    return Decision(
        policy=policy.id,
        activate=activate,
        status=status,
        criteria=tuple(criterion.id for criterion, _ in matches),
        specialists=specialists,
        reasons=tuple(reasons),
    )


def _inside_area(report: IncidentReport, agency: AgencyConfig) -> bool:
    """An incident without a location, or of an agency without an area, counts as inside."""
    location = report.location
    if agency.area is None or location is None:
        return True
    return agency.area.area.contains(lat=location.lat, lon=location.lon)


def _status(report: IncidentReport, matches: list[Match], *, inside: bool) -> Status:
    if report.directed_by_chief:
        return Status.ACTIVATE
    if not matches:
        return Status.NOT_COVERED
    if not inside:
        return Status.OUTSIDE_AREA
    if report.consent_given or any(not criterion.needs_consent for criterion, _ in matches):
        return Status.ACTIVATE
    return Status.AWAITING_CONSENT


def _criterion_reason(policy: Policy, criterion: Criterion, evidence: Evidence) -> str:
    """E.g. `830 §III.E.1: Death or serious bodily injury of any member — member E1002 died.`"""
    words = criterion.words.rstrip(" .;,")
    found = f" — {'; '.join(evidence)}" if evidence else ""
    return f"{policy.cite} §{criterion.id}: {words}{found}."


def _sections(policy: Policy, criteria: list[Criterion]) -> str:
    return f"{policy.cite} " + ", ".join(f"§{criterion.id}" for criterion in criteria)


def _status_reason(
    status: Status,
    report: IncidentReport,
    agency: AgencyConfig,
    matches: list[Match],
    *,
    inside: bool,
) -> str:
    policy = agency.policy
    if status is Status.ACTIVATE and report.directed_by_chief:
        grounds = agency.may_set_directed_by_chief.grounds.cite(policy)
        where = ""
        if agency.area is not None and not inside:
            where = f", although it happened outside {agency.area.name}"
        return f"Activated: the chief or designee directed the activation ({grounds}){where}."
    if status is Status.NOT_COVERED:
        return (
            f"Not covered: the report matches none of the criteria of {policy.cite} "
            f"§{policy.criteria_section}, and the chief or designee did not direct an activation."
        )
    if status is Status.OUTSIDE_AREA and agency.area is not None:
        grounds = agency.area.grounds.cite(policy)
        return (
            f"Not activated: the incident happened outside {agency.area.name} ({grounds}); "
            "only the chief or designee can direct an activation there."
        )
    without_consent = [criterion for criterion, _ in matches if not criterion.needs_consent]
    needing_consent = [criterion for criterion, _ in matches if criterion.needs_consent]
    if status is Status.ACTIVATE and without_consent:
        verb = "applies" if len(without_consent) == 1 else "apply"
        return f"Activated: {_sections(policy, without_consent)} {verb}{_where(report, agency)}."
    if status is Status.ACTIVATE:
        return (
            "Activated with the affected member's express permission "
            f"({_sections(policy, needing_consent)}){_where(report, agency)}."
        )
    return (
        "Awaiting the affected member's express permission "
        f"({_sections(policy, needing_consent)}); no one is paged until it is given."
    )


def _where(report: IncidentReport, agency: AgencyConfig) -> str:
    """Why the area rule holds, for an agency with an area."""
    if agency.area is None:
        return ""
    if report.location is None:
        return f"; no location was given, so it counts as inside {agency.area.name}"
    return f"; it happened inside {agency.area.name}"


def _specialists_reason(specialists: int, report: IncidentReport, agency: AgencyConfig) -> str:
    if specialists == 0:
        return "No specialists are paged."
    count = agency.specialists
    extra = report.additional_specialists
    noun = "specialist" if specialists == 1 else "specialists"
    more = f" plus {extra} more authorised for this incident" if extra else ""
    grounds = count.grounds.cite(agency.policy)
    return f"{specialists} {noun}: {count.per_incident} per incident ({grounds}){more}."
