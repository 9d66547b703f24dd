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

from sqlalchemy import DateTime, Select, String, cast, literal, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.audit import record_audit
from services.intake.credentials import Caller
from services.intake.models import AuditEntry, Incident
from shared.errors import Forbidden
from shared.events import IncidentReported, Reporter
from shared.incident_report import IncidentReport
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue, flag_outbox_written, outbox_row
from shared.outbox.models import OutboxMessage
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


def report_digest(canonical: dict[str, Any]) -> str:
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


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


async def report_incident(
    session: AsyncSession,
    topics: Topics,
    *,
    report: IncidentReport,
    caller: Caller,
    agency: AgencyConfig,
    now: datetime,
) -> ReportOutcome:
    """Store the report (once per agency and external_id) and enqueue its event."""
    authorise_report(report, caller, agency)
    facts = canonical_report(report)
    digest = report_digest(facts)
    new_id = uuid.uuid4()
    inserted = (
        await session.execute(
            _create_incident(
                topics,
                new_id=new_id,
                report=report,
                facts=facts,
                digest=digest,
                caller=caller,
                now=now,
            )
        )
    ).scalar_one_or_none()
    if inserted is not None:
        await flag_outbox_written(session)
        return ReportOutcome(inserted, "created")

    stored = (
        await session.execute(
            select(Incident)
            .where(Incident.agency == report.agency, Incident.external_id == report.external_id)
            .with_for_update()
        )
    ).scalar_one()
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


def _create_incident(
    topics: Topics,
    *,
    new_id: uuid.UUID,
    report: IncidentReport,
    facts: dict[str, Any],
    digest: str,
    caller: Caller,
    now: datetime,
) -> Select[Any]:
    """One statement, one round trip: insert the incident unless (agency, external_id) exists,
    and only if it was inserted, its event into the outbox and its audit entry."""
    new_incident = (
        insert(Incident)
        .values(
            id=new_id,
            agency=report.agency,
            external_id=report.external_id,
            revision=1,
            report=facts,
            report_digest=digest,
            reporter_via=caller.via,
            reporter_role=caller.role,
            reporter_name=caller.name,
            reporter_token_id=caller.token_id,
            received_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["agency", "external_id"])
        .returning(Incident.id)
        .cte("new_incident")
    )
    event = outbox_row(topics, _reported(new_id, report.agency, 1, facts, caller, now))
    announce = insert(OutboxMessage).from_select(
        list(event),
        select(
            literal(event["topic"]),
            literal(event["key"]),
            literal(event["event_type"]),
            literal(event["payload"], JSONB),
        ).select_from(new_incident),
    )
    audit = insert(AuditEntry).from_select(
        ["at", "agency", "actor", "actor_role", "action", "object_type", "object_id", "detail"],
        select(
            literal(now, DateTime(timezone=True)),
            literal(caller.agency),
            literal(caller.name),
            literal(caller.role),
            literal("incident.create"),
            literal("incident"),
            cast(new_incident.c.id, String),
            literal({"revision": 1}, JSONB),
        ).select_from(new_incident),
    )
    return select(new_incident.c.id).add_cte(announce.cte("announce")).add_cte(audit.cte("audit"))


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
