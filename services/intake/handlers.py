"""Intake's handlers: each owns one unit of work and commits once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.audit import record_audit
from services.intake.cad_signature import SignatureRejected, verify_signature
from services.intake.context import CAD_SECRET_CACHE_SECONDS, IntakeContext
from services.intake.credentials import Caller, valid_cad_secrets
from services.intake.models import Approval, Incident
from services.intake.reporting import (
    ReportOutcome,
    authorise_report,
    canonical_report,
    new_incident,
    revise_incident,
)
from services.intake.roster import RosterChange, replace_roster
from shared.activation_records import activation_view
from shared.db.unit_of_work import unit_of_work
from shared.errors import BadSignature, Conflict, Forbidden, InvalidInput, NotFound
from shared.events import ApprovalRecorded
from shared.incident_report import IncidentReport, validation_error_line
from shared.outbox.enqueue import enqueue
from shared.policy import OnDutySpecialistRule, Role
from shared.roster.actor import Actor
from shared.roster.entry import MAX_ROSTER_SIZE, RosterEntryIn

_ROSTER = TypeAdapter(list[RosterEntryIn])


def parse_report(ctx: IntakeContext, body: bytes) -> IncidentReport:
    """Validate a report's JSON; a fault names the field (422)."""
    try:
        return IncidentReport.model_validate_json(
            body, context={"now": ctx.runtime.clock.now(), "agencies": ctx.registry.slugs}
        )
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None


async def handle_report(
    ctx: IntakeContext, report: IncidentReport, caller: Caller
) -> ReportOutcome:
    """Most reports name a new incident: it is stored with its event and its audit entry by
    one statement, with the new incidents of concurrent requests (`IntakeContext.new_incidents`).
    A report for a stored incident then takes the transaction that locks it and revises it or
    counts a repeat."""
    agency = ctx.registry.get(report.agency)
    authorise_report(report, caller, agency)
    now = ctx.runtime.clock.now()
    facts = canonical_report(report)
    row = new_incident(ctx.runtime.topics, report=report, facts=facts, caller=caller, now=now)
    if await ctx.new_incidents.create(row):
        return ReportOutcome(row.id, "created")
    async with unit_of_work(ctx.runtime.sessions) as session:
        outcome = await revise_incident(
            session,
            ctx.runtime.topics,
            report=report,
            facts=facts,
            caller=caller,
            agency=agency,
            now=now,
        )
        await session.commit()
    return outcome


async def handle_amendment(
    ctx: IntakeContext, caller: Caller, incident_id: uuid.UUID, changes: Mapping[str, Any]
) -> ReportOutcome:
    """A coordinator's change to a stored report from the console (the member's consent given,
    extra specialists authorised): a revision like any other report's, found by the incident's
    id, as a report need not carry an `external_id`. The changed report is validated and
    authorised as if it had been sent whole."""
    now = ctx.runtime.clock.now()
    async with unit_of_work(ctx.runtime.sessions) as session:
        await session.get(Incident, incident_id, with_for_update=True)  # read and revise, locked
        incident = await _visible_incident(session, caller, incident_id)
        try:
            report = IncidentReport.model_validate(
                {**incident.report, **changes},
                context={"now": now, "agencies": ctx.registry.slugs},
            )
        except ValidationError as error:
            raise InvalidInput(validation_error_line(error)) from None
        agency = ctx.registry.get(report.agency)
        authorise_report(report, caller, agency)
        outcome = await revise_incident(
            session,
            ctx.runtime.topics,
            report=report,
            facts=canonical_report(report),
            caller=caller,
            agency=agency,
            now=now,
            incident_id=incident.id,
        )
        await session.commit()
    return outcome


async def authenticate_cad(
    ctx: IntakeContext, agency: str, body: bytes, header: str | None
) -> Caller:
    """The agency's CAD system, if the body is signed with one of its valid secrets. The
    secrets are read at most every `CAD_SECRET_CACHE_SECONDS` per process; a signature the
    cached ones refuse is checked against the stored ones again, so a new secret is accepted
    at once (and one rotated out without grace stops being accepted within that time)."""
    if agency not in ctx.registry.slugs:
        raise NotFound(f"unknown agency {agency!r}")
    now = ctx.runtime.clock.now()
    cached = ctx.cad_secret_cache.get(agency)
    if cached is not None and cached[1] > now:
        try:
            verify_signature(
                header, body, [s.secret for s in cached[0] if s.valid_at(now)], now=now
            )
            return _cad_caller(agency)
        except SignatureRejected:
            pass  # perhaps signed with a secret newer than the cached ones
    async with unit_of_work(ctx.runtime.sessions) as session:
        secrets = await valid_cad_secrets(session, agency=agency, now=now)
    ctx.cad_secret_cache[agency] = (secrets, now + timedelta(seconds=CAD_SECRET_CACHE_SECONDS))
    if not secrets:
        raise BadSignature(f"agency {agency!r} has no CAD secret yet (pst cad-secret rotate)")
    try:
        verify_signature(header, body, [s.secret for s in secrets], now=now)
    except SignatureRejected as error:
        raise BadSignature(str(error)) from None
    return _cad_caller(agency)


def _cad_caller(agency: str) -> Caller:
    return Caller(agency=agency, role="cad", name=f"CAD system ({agency})")


async def handle_incident_read(
    ctx: IntakeContext, caller: Caller, incident_id: uuid.UUID
) -> dict[str, Any]:
    now = ctx.runtime.clock.now()
    async with unit_of_work(ctx.runtime.sessions) as session:
        incident = await _visible_incident(session, caller, incident_id)
        view = await activation_view(session, incident.id)
        record_audit(
            session,
            caller,
            action="incident.read",
            object_type="incident",
            object_id=str(incident.id),
            at=now,
        )
        await session.commit()
    decision = view.decision if view is not None else None
    return {
        "incident_id": str(incident.id),
        "agency": incident.agency,
        "external_id": incident.external_id,
        "revision": incident.revision,
        "status": decision["status"] if decision else "received",
        "decision": decision,
        "assignments": view.assignments if view is not None else [],
    }


async def _visible_incident(
    session: AsyncSession, caller: Caller, incident_id: uuid.UUID
) -> Incident:
    incident: Incident | None = await session.get(Incident, incident_id)
    if incident is None or incident.agency != caller.agency:
        raise NotFound("no such incident")  # another agency's incidents do not exist for you
    own = caller.token_id is not None and incident.reporter_token_id == caller.token_id
    if not (caller.sees_every_incident or own):
        raise Forbidden("only coordinators, managers and the incident's reporter may read it")
    return incident


async def handle_roster_replace(
    ctx: IntakeContext, caller: Caller, agency: str, body: bytes
) -> RosterChange:
    _require_own_agency(caller, agency)
    if caller.role not in (Role.COORDINATOR, Role.MANAGER):
        raise Forbidden("only coordinators and managers may replace the roster")
    return await handle_roster_entries(ctx, caller, agency, parse_roster(body, agency))


async def handle_roster_entries(
    ctx: IntakeContext,
    caller: Caller,
    agency: str,
    entries: list[RosterEntryIn],
    *,
    source: str = "roster API request",
) -> RosterChange:
    """Replace the agency's roster with `entries` (validated: `check_roster`)."""
    _require_own_agency(caller, agency)
    if caller.role not in (Role.COORDINATOR, Role.MANAGER):
        raise Forbidden("only coordinators and managers may replace the roster")
    check_roster(entries, agency)
    now = ctx.runtime.clock.now()
    async with unit_of_work(ctx.runtime.sessions) as session:
        change = await replace_roster(
            session,
            agency=ctx.registry.get(agency),
            entries=entries,
            now=now,
            actor=actor_of(caller),
            topics=ctx.runtime.topics,
            source=source,
        )
        record_audit(
            session,
            caller,
            action="roster.replace",
            object_type="roster",
            object_id=agency,
            at=now,
            detail=change.as_dict(),
        )
        await session.commit()
    return change


def actor_of(caller: Caller) -> Actor:
    return Actor(
        role=caller.role, name=caller.name, via="console" if caller.via == "console" else "api"
    )


def parse_roster(body: bytes, agency: str) -> list[RosterEntryIn]:
    try:
        entries = _ROSTER.validate_json(body)
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None
    check_roster(entries, agency)
    return entries


def check_roster(entries: list[RosterEntryIn], agency: str) -> None:
    """The whole-roster rules a single entry's model cannot see."""
    if len(entries) > MAX_ROSTER_SIZE:
        raise InvalidInput(f"the roster has {len(entries)} entries; at most {MAX_ROSTER_SIZE}")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.agency != agency:
            raise InvalidInput(f"{index}.agency: {entry.agency!r} is not {agency!r}")
        if entry.member_id in seen:
            raise InvalidInput(f"{index}.member_id: {entry.member_id!r} is listed twice")
        seen.add(entry.member_id)


async def handle_approval(
    ctx: IntakeContext, caller: Caller, incident_id: uuid.UUID, member_id: str
) -> dict[str, Any]:
    if caller.role != Role.COORDINATOR:
        raise Forbidden("only a coordinator records a Bureau Director consult")
    now = ctx.runtime.clock.now()
    async with unit_of_work(ctx.runtime.sessions) as session:
        incident = await _visible_incident(session, caller, incident_id)
        agency = ctx.registry.get(incident.agency)
        if agency.on_duty_specialists.rule != OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT:
            raise Conflict(f"agency {agency.slug!r} pages on-duty specialists without approval")
        view = await activation_view(session, incident.id)
        waiting = {
            a["member_id"]
            for a in (view.assignments if view else [])
            if a["state"] == "awaiting_approval"
        }
        known = await session.scalar(
            select(Approval.id).where(
                Approval.incident_id == incident.id, Approval.member_id == member_id
            )
        )
        if known is None and member_id not in waiting:
            raise Conflict(f"member_id: no assignment of {member_id!r} awaits approval")
        recorded = known is None and await _insert_approval(
            session, incident.id, member_id, caller.name, now
        )
        if recorded:
            await enqueue(
                session,
                ctx.runtime.topics,
                ApprovalRecorded(
                    occurred_at=now,
                    incident_id=incident.id,
                    agency=incident.agency,
                    member_id=member_id,
                    recorded_by=caller.name,
                ),
            )
        record_audit(
            session,
            caller,
            action="approval.record",
            object_type="incident",
            object_id=str(incident.id),
            at=now,
            detail={"member_id": member_id},
        )
        await session.commit()
    return {"incident_id": str(incident_id), "member_id": member_id, "recorded": recorded}


async def _insert_approval(
    session: AsyncSession, incident_id: uuid.UUID, member_id: str, by: str, now: datetime
) -> bool:
    """True if this call recorded the approval; False if a concurrent one already had."""
    inserted = await session.scalar(
        insert(Approval)
        .values(incident_id=incident_id, member_id=member_id, recorded_by=by, recorded_at=now)
        .on_conflict_do_nothing(index_elements=["incident_id", "member_id"])
        .returning(Approval.id)
    )
    return inserted is not None


def _require_own_agency(caller: Caller, agency: str) -> None:
    if agency != caller.agency:
        raise Forbidden(f"this credential is for agency {caller.agency!r}, not {agency!r}")
