"""Incident reports and approvals: decide, store the decision, page whoever is due.

Revisions make a report idempotent and order-proof: a revision no newer than the stored one
changes nothing. An update that no longer activates pages no one new, and those already
assigned stay (CONTRACT §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.context import CONSUMER, DispatcherContext
from services.dispatcher.records import lock_decision, store_newer_decision
from services.dispatcher.staffing import staff_incident
from services.dispatcher.tables import APPROVALS
from shared.events import ActivationDecided, ApprovalRecorded, IncidentReported, PageFacts
from shared.incident_report import IncidentReport, validation_error_line
from shared.policy import AgencyConfig, Decision, UnknownAgency, decide
from shared.processed_events import claim_parameters

_NEW_APPROVAL = insert(APPROVALS).on_conflict_do_nothing(
    index_elements=[APPROVALS.c.incident_id, APPROVALS.c.member_id]
)


class UnusableReport(Exception):
    """The event's report cannot be decided on (unknown agency, invalid report)."""


@dataclass(frozen=True, slots=True)
class DecidedReport:
    event: IncidentReported
    agency: AgencyConfig
    report: IncidentReport
    decision: Decision

    def page_facts(self) -> PageFacts:
        """What a page may say of the incident: time, place, kind; never names."""
        report, location = self.report, self.report.location
        return PageFacts(
            agency=report.agency,
            occurred_at=report.occurred_at,
            time_zone=self.agency.time_zone,
            event=report.event.value,
            lat=location.lat if location else None,
            lon=location.lon if location else None,
            address=location.address if location else None,
        )

    def row_values(self, ctx: DispatcherContext, facts: PageFacts) -> dict[str, Any]:
        report, decision = self.report, self.decision
        return {
            "incident_id": self.event.incident_id,
            "agency": self.agency.slug,
            "revision": self.event.revision,
            "status": decision.status.value,
            "activate": decision.activate,
            "criteria": list(decision.criteria),
            "specialists": decision.specialists,
            "reasons": list(decision.reasons),
            "decision": decision.to_dict(),
            "decided_at": ctx.clock.now(),
            "reporter_role": self.event.reporter.role,
            "page_facts": facts.model_dump(mode="json"),
            "involved_member_ids": sorted(
                {p.member_id for p in report.persons if p.member_id is not None}
            ),
        }


def decide_report(ctx: DispatcherContext, event: IncidentReported) -> DecidedReport:
    """Validate the event's report and apply its agency's policy; pure."""
    try:
        agency = ctx.registry.get(event.agency)
    except UnknownAgency as error:
        raise UnusableReport(str(error)) from error
    now = max(ctx.clock.now(), event.occurred_at)
    try:
        report = IncidentReport.model_validate(event.report, context={"now": now})
    except ValidationError as error:
        raise UnusableReport(f"invalid report: {validation_error_line(error)}") from error
    if report.agency != agency.slug:
        raise UnusableReport(f"the report is for {report.agency!r}, the event for {agency.slug!r}")
    return DecidedReport(event, agency, report, decide(report, agency))


async def on_incident_reported(
    session: AsyncSession, ctx: DispatcherContext, decided: DecidedReport
) -> None:
    """Claim the event, store the decision of a newer revision and page whoever it makes due."""
    claim = claim_parameters(consumer=CONSUMER, event_id=str(decided.event.event_id))
    facts = decided.page_facts()
    values = decided.row_values(ctx, facts)
    decision = await store_newer_decision(session, values, claim=claim)
    if decision is not None:
        announced = ActivationDecided(
            occurred_at=values["decided_at"],
            incident_id=decision.incident_id,
            agency=decision.agency,
            revision=values["revision"],
            status=values["status"],
            activate=values["activate"],
            criteria=values["criteria"],
            specialists=values["specialists"],
            reasons=values["reasons"],
            facts=facts,
        )
        await staff_incident(session, ctx, decision=decision, announce=[announced])


async def on_approval_recorded(
    session: AsyncSession, ctx: DispatcherContext, event: ApprovalRecorded
) -> None:
    """Remember the consult; page the member if they were waiting for it (kck, FOP #4 §F.1)."""
    await session.execute(
        _NEW_APPROVAL,
        {
            "incident_id": event.incident_id,
            "member_id": event.member_id,
            "recorded_by": event.recorded_by,
            "recorded_at": event.occurred_at,
        },
    )
    decision = await lock_decision(session, event.incident_id)
    if decision is not None:
        await staff_incident(session, ctx, decision=decision)
