"""Taking an incident report: authorise it, store it once, announce it through the outbox.

CAD systems retry and commanders double-tap: (agency, external_id) names one incident, and a
unique constraint (not a look-then-insert) makes two identical reports arriving at the same
instant one incident. A repeat with the same facts changes nothing; with changed facts it
replaces them, counts a new revision and announces it, so the dispatcher decides again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.audit import record_audit
from services.intake.credentials import Caller
from services.intake.models import Incident
from services.intake.new_incidents import NewIncident
from shared.errors import Conflict, Forbidden
from shared.events import IncidentReported, Reporter
from shared.incident_report import IncidentReport
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue, outbox_row
from shared.policy import AgencyConfig

ReportResult = Literal["created", "unchanged", "updated"]


@dataclass(frozen=True)
class ReportOutcome:
    incident_id: uuid.UUID
    result: ReportResult


def authorise_report(report: IncidentReport, caller: Caller, agency: AgencyConfig) -> None:
    """Raise Forbidden unless the caller may send this report (CONTRACT §3, §7)."""
    if report.agency != caller.agency:
        raise Forbidden(
            f"agency: this credential is for {caller.agency!r}; it cannot report for "
            f"{report.agency!r}"
        )
    if report.directed_by_chief and not agency.may_set_directed_by_chief.allows(caller.role):
        raise Forbidden(
            "directed_by_chief: only "
            + _roles(agency.may_set_directed_by_chief.roles)
            + f" may direct an activation, not a {caller.role}"
        )
    if report.additional_specialists and not agency.may_set_additional_specialists.allows(
        caller.role
    ):
        raise Forbidden(
            "additional_specialists: only "
            + _roles(agency.may_set_additional_specialists.roles)
            + f" may authorise extra specialists, not a {caller.role}"
        )


def _roles(roles: tuple[str, ...] | frozenset[str]) -> str:
    names = sorted(str(r) for r in roles)
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def canonical_report(report: IncidentReport) -> dict[str, Any]:
    return report.model_dump(mode="json")


def canonical_json(canonical: dict[str, Any]) -> str:
    """The report's JSON with sorted keys and no spaces: what its digest is taken of."""
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


def report_digest(canonical: dict[str, Any]) -> str:
    return _digest(canonical_json(canonical))


def _digest(encoded: str) -> str:
    return hashlib.sha256(encoded.encode()).hexdigest()


def keep_authorised_facts(
    new: dict[str, Any], stored: dict[str, Any], caller: Caller, agency: AgencyConfig
) -> dict[str, Any]:
    """A chief's direction and extra specialists, once given, are not undone by a later report
    from someone who may not give them (a CAD system re-sending the incident, say)."""
    merged = dict(new)
    if not agency.may_set_directed_by_chief.allows(caller.role):
        merged["directed_by_chief"] = bool(stored.get("directed_by_chief")) or bool(
            new.get("directed_by_chief")
        )
    if not agency.may_set_additional_specialists.allows(caller.role):
        merged["additional_specialists"] = max(
            int(stored.get("additional_specialists") or 0),
            int(new.get("additional_specialists") or 0),
        )
    return merged


def new_incident(
    topics: Topics,
    *,
    report: IncidentReport,
    facts: dict[str, Any],
    caller: Caller,
    now: datetime,
) -> NewIncident:
    """The row that stores a report naming a new incident, with its event and audit entry
    (`new_incidents.NewIncidentWriter`). The report's canonical JSON text is both its digest's
    input and the stored document, so it is encoded once."""
    new_id = uuid.uuid4()
    event = outbox_row(topics, _reported(new_id, report.agency, 1, facts, caller, now))
    encoded = canonical_json(facts)
    return NewIncident(
        id=new_id,
        agency=report.agency,
        external_id=report.external_id,
        report=encoded,
        digest=_digest(encoded),
        reporter_via=caller.via,
        reporter_role=caller.role,
        reporter_name=caller.name,
        reporter_token_id=caller.token_id,
        caller_agency=caller.agency,
        received_at=now,
        event_topic=event["topic"],
        event_key=event["key"],
        event_type=event["event_type"],
        event_payload=orjson.dumps(event["payload"]).decode(),
    )


async def revise_incident(
    session: AsyncSession,
    topics: Topics,
    *,
    report: IncidentReport,
    facts: dict[str, Any],
    caller: Caller,
    agency: AgencyConfig,
    now: datetime,
    incident_id: uuid.UUID | None = None,
) -> ReportOutcome:
    """A report for a stored incident, named by (`agency`, `external_id`) or by `incident_id`:
    a repeat changes nothing, new facts make a revision.

    The row is locked, so two revisions of one incident are counted one after the other."""
    named = (
        Incident.id == incident_id
        if incident_id is not None
        else Incident.external_id == report.external_id
    )
    stored = (
        await session.execute(
            select(Incident).where(Incident.agency == report.agency, named).with_for_update()
        )
    ).scalar_one()
    if stored.facts_purged_at is not None:
        raise Conflict(
            f"incident {stored.id}: its facts were purged after the agency's retention period; "
            "report it again as a new incident"
        )
    facts = keep_authorised_facts(facts, stored.report, caller, agency)
    digest = report_digest(facts)
    if digest == stored.report_digest:
        record_audit(
            session,
            caller,
            action="incident.repeat",
            object_type="incident",
            object_id=str(stored.id),
            at=now,
            detail={"revision": stored.revision},
        )
        return ReportOutcome(stored.id, "unchanged")
    stored.revision += 1
    stored.report = facts
    stored.report_digest = digest
    stored.updated_at = now
    await _announce(session, topics, stored.id, stored.agency, stored.revision, facts, caller, now)
    record_audit(
        session,
        caller,
        action="incident.update",
        object_type="incident",
        object_id=str(stored.id),
        at=now,
        detail={"revision": stored.revision},
    )
    return ReportOutcome(stored.id, "updated")


def _reported(
    incident_id: uuid.UUID,
    agency: str,
    revision: int,
    facts: dict[str, Any],
    caller: Caller,
    now: datetime,
) -> IncidentReported:
    return IncidentReported(
        occurred_at=now,
        incident_id=incident_id,
        agency=agency,
        revision=revision,
        report=facts,
        reporter=Reporter(via=caller.via, role=caller.role, name=caller.name),
    )


async def _announce(
    session: AsyncSession,
    topics: Topics,
    incident_id: uuid.UUID,
    agency: str,
    revision: int,
    facts: dict[str, Any],
    caller: Caller,
    now: datetime,
) -> None:
    await enqueue(session, topics, _reported(incident_id, agency, revision, facts, caller, now))
