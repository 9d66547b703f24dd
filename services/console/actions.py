"""What people do in the console, each as the owning service's command.

Reports, consent, extra specialists, the Bureau Director consult and the roster go through
intake's handlers (with the signed-in person as the caller); standing down and paging by hand
are commands to the dispatcher, written to the outbox in the transaction that audits them; a
test phone's reply goes through the notifier's own reply path. The console checks each against
its read model first, so a person sees at once why something cannot be done; the owning
service checks again, as the last word.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.eligibility import roster_with_eligibility
from services.console.live import notify_board
from services.console.models import ConsoleRequest, InboxAlert, TestPhoneMessage
from services.console.read_model import IncidentView, incident
from services.intake.credentials import Caller
from services.intake.handlers import (
    handle_amendment,
    handle_approval,
    handle_report,
    handle_roster_entries,
)
from services.intake.reporting import ReportOutcome
from services.intake.roster import RosterChange
from services.notifier.contact_logs import ExchangeSetup
from services.notifier.test_phones import answer_as_test_phone, press_key_as_test_phone
from shared.db.unit_of_work import unit_of_work
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import ManualPageRequested, StandDownRequested
from shared.incident_report import IncidentReport
from shared.outbox.enqueue import enqueue
from shared.roster.entry import RosterEntryIn
from shared.roster.models import RosterEntry


def caller_of(user: SignedIn) -> Caller:
    """The signed-in person as intake's handlers know callers."""
    return Caller(
        agency=user.agency, role=user.role.value, name=user.name, console_user_id=user.user_id
    )


def _audit(
    session: AsyncSession,
    ctx: ConsoleContext,
    user: SignedIn,
    action: str,
    *,
    object_type: str,
    object_id: str,
    detail: Mapping[str, audit.DetailValue] | None = None,
) -> None:
    audit.record_by(
        session,
        user,
        action,
        at=ctx.runtime.clock.now(),
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


async def _audited(
    ctx: ConsoleContext,
    user: SignedIn,
    action: str,
    *,
    object_type: str,
    object_id: str,
    detail: Mapping[str, audit.DetailValue] | None = None,
) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        _audit(
            session, ctx, user, action, object_type=object_type, object_id=object_id, detail=detail
        )
        await session.commit()


async def _open_incident(
    session: AsyncSession, user: SignedIn, incident_id: uuid.UUID
) -> IncidentView:
    found = await incident(session, user.agency, incident_id)
    if found is None:
        raise NotFound("no such incident")
    if found.closed_at is not None:
        raise Conflict("the incident is closed: the team was stood down")
    return found


async def stand_down(ctx: ConsoleContext, user: SignedIn, incident_id: uuid.UUID) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        await _open_incident(session, user, incident_id)
        await enqueue(
            session,
            ctx.runtime.topics,
            StandDownRequested(
                occurred_at=ctx.runtime.clock.now(),
                incident_id=incident_id,
                agency=user.agency,
                requested_by=user.name,
            ),
        )
        _audit(
            session,
            ctx,
            user,
            "incident.stand_down",
            object_type="incident",
            object_id=str(incident_id),
        )
        await session.commit()


async def page_by_hand(
    ctx: ConsoleContext, user: SignedIn, incident_id: uuid.UUID, member_id: str
) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        found = await _open_incident(session, user, incident_id)
        if not found.activate:
            raise Conflict("the incident does not activate the team: nobody can be paged for it")
        involved = _involved(found)
        assigned = {a.member_id for a in found.assignments}
        entries = {
            e.member_id: e
            for e in await roster_with_eligibility(
                session,
                user.agency,
                now=ctx.runtime.clock.now(),
                involved=involved,
                assigned=assigned,
            )
        }
        entry = entries.get(member_id)
        if entry is None:
            raise InvalidInput(f"member_id: {member_id!r} is not on the roster")
        if entry.why_not is not None:
            raise Conflict(f"{entry.name} cannot be paged: {entry.why_not}")
        open_places = sum(1 for a in found.assignments if a.is_open)
        if open_places >= found.specialists:
            raise Conflict(
                f"all {found.specialists} places are taken: authorise more specialists or "
                "stand one down first"
            )
        await enqueue(
            session,
            ctx.runtime.topics,
            ManualPageRequested(
                occurred_at=ctx.runtime.clock.now(),
                incident_id=incident_id,
                agency=user.agency,
                member_id=member_id,
                requested_by=user.name,
            ),
        )
        _audit(
            session,
            ctx,
            user,
            "incident.manual_page",
            object_type="incident",
            object_id=str(incident_id),
            detail={"member_id": member_id},
        )
        await session.commit()


def _involved(found: IncidentView) -> set[str]:
    persons = (found.report or {}).get("persons") or []
    return {str(p["member_id"]) for p in persons if p.get("member_id")}


async def record_consent(ctx: ConsoleContext, user: SignedIn, incident_id: uuid.UUID) -> None:
    await _amend(ctx, user, incident_id, {"consent_given": True}, "incident.consent")


async def authorise_extra(
    ctx: ConsoleContext, user: SignedIn, incident_id: uuid.UUID, count: int
) -> None:
    await _amend(
        ctx,
        user,
        incident_id,
        {"additional_specialists": count},
        "incident.extra_specialists",
        {"additional_specialists": count},
    )


async def _amend(
    ctx: ConsoleContext,
    user: SignedIn,
    incident_id: uuid.UUID,
    changes: Mapping[str, Any],
    action: str,
    detail: Mapping[str, audit.DetailValue] | None = None,
) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        await _open_incident(session, user, incident_id)
    outcome = await handle_amendment(ctx.intake, caller_of(user), incident_id, changes)
    await _audited(
        ctx,
        user,
        action,
        object_type="incident",
        object_id=str(incident_id),
        detail={**(detail or {}), "result": outcome.result},
    )


async def record_approval(
    ctx: ConsoleContext, user: SignedIn, incident_id: uuid.UUID, member_id: str
) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        await _open_incident(session, user, incident_id)
    await handle_approval(ctx.intake, caller_of(user), incident_id, member_id)
    await _audited(
        ctx,
        user,
        "incident.approval",
        object_type="incident",
        object_id=str(incident_id),
        detail={"member_id": member_id},
    )


async def request_team(
    ctx: ConsoleContext, user: SignedIn, report: IncidentReport
) -> ReportOutcome:
    """The request form's report, exactly as `POST /v1/incidents` takes it; the incident is
    the requester's to follow."""
    outcome = await handle_report(ctx.intake, report, caller_of(user))
    async with unit_of_work(ctx.runtime.sessions) as session:
        known = await session.get(ConsoleRequest, outcome.incident_id)
        if known is None:
            session.add(
                ConsoleRequest(
                    incident_id=outcome.incident_id,
                    user_id=user.user_id,
                    agency=user.agency,
                    created_at=ctx.runtime.clock.now(),
                )
            )
        _audit(
            session,
            ctx,
            user,
            "incident.request",
            object_type="incident",
            object_id=str(outcome.incident_id),
            detail={"result": outcome.result},
        )
        await session.commit()
    return outcome


async def acknowledge_alert(ctx: ConsoleContext, user: SignedIn, alert_id: uuid.UUID) -> None:
    async with unit_of_work(ctx.runtime.sessions) as session:
        alert = await session.get(InboxAlert, alert_id, with_for_update=True)
        if alert is None or alert.agency != user.agency:
            raise NotFound("no such alert")
        if alert.acknowledged_at is None:
            await session.execute(
                update(InboxAlert)
                .where(InboxAlert.alert_id == alert_id)
                .values(acknowledged_at=ctx.runtime.clock.now(), acknowledged_by=user.name)
            )
            await notify_board(session, user.agency)
        _audit(
            session, ctx, user, "alert.acknowledge", object_type="alert", object_id=str(alert_id)
        )
        await session.commit()


async def replace_roster(
    ctx: ConsoleContext,
    user: SignedIn,
    entries: list[RosterEntryIn],
    action: str,
    detail: Mapping[str, audit.DetailValue] | None = None,
    *,
    source: str = "roster page",
) -> RosterChange:
    change = await handle_roster_entries(
        ctx.intake, caller_of(user), user.agency, entries, source=source
    )
    await _audited(ctx, user, action, object_type="roster", object_id=user.agency, detail=detail)
    return change


@dataclass(frozen=True, slots=True)
class TestPhoneExchange:
    phone: str
    sent: str
    answer: str | None


async def reply_as_test_phone(
    ctx: ConsoleContext, user: SignedIn, phone: str, body: str
) -> TestPhoneExchange:
    """Answer as one of the agency's specialists' phones, through the notifier's reply path;
    only while Twilio is not configured (no real phone can answer then)."""
    if ctx.runtime.settings.twilio_configured:
        raise Conflict("Twilio is configured: replies come from real phones")
    async with unit_of_work(ctx.runtime.sessions) as session:
        on_roster = await session.scalar(
            select(RosterEntry.member_id).where(
                RosterEntry.agency == user.agency, RosterEntry.phone == phone
            )
        )
    if on_roster is None:
        raise InvalidInput(f"phone: {phone!r} is not the phone of a specialist of your agency")
    answer = await answer_as_test_phone(
        phone=phone,
        body=body,
        sessions=ctx.runtime.sessions,
        topics=ctx.runtime.topics,
        clock=ctx.runtime.clock,
        setup=ExchangeSetup.of(ctx.runtime.settings, ctx.registry),
    )
    await _keep_exchange(ctx, user, phone, "sms", body, answer, "test_phone.reply")
    return TestPhoneExchange(phone, body, answer)


async def press_key_as_test_phone_call(
    ctx: ConsoleContext, user: SignedIn, page_id: uuid.UUID, digit: str
) -> TestPhoneExchange:
    """Press a key in a call kept unsent, through the notifier's own call path (1 accepts,
    2 declines); only while Twilio is not configured."""
    if ctx.runtime.settings.twilio_configured:
        raise Conflict("Twilio is configured: calls are answered on real phones")
    async with unit_of_work(ctx.runtime.sessions) as session:
        call = await session.scalar(
            select(TestPhoneMessage).where(
                TestPhoneMessage.page_id == page_id,
                TestPhoneMessage.agency == user.agency,
                TestPhoneMessage.channel == "call",
            )
        )
    if call is None:
        raise NotFound("no such call to one of your agency's test phones")
    answer = await press_key_as_test_phone(
        page_id=page_id,
        digit=digit,
        sessions=ctx.runtime.sessions,
        topics=ctx.runtime.topics,
        clock=ctx.runtime.clock,
    )
    await _keep_exchange(
        ctx, user, call.phone, "call", f"pressed {digit}", answer, "test_phone.keypress"
    )
    return TestPhoneExchange(call.phone, f"pressed {digit}", answer)


async def _keep_exchange(
    ctx: ConsoleContext,
    user: SignedIn,
    phone: str,
    channel: str,
    sent: str,
    answer: str | None,
    action: str,
) -> None:
    """What the trainer sent as the phone and what the service answered, on the phone's page."""
    now = ctx.runtime.clock.now()
    async with unit_of_work(ctx.runtime.sessions) as session:
        for direction, words in (("in", sent), ("out", answer)):
            if words:
                session.add(
                    TestPhoneMessage(
                        agency=user.agency,
                        phone=phone,
                        direction=direction,
                        channel=channel,
                        text=words,
                        at=now,
                    )
                )
        _audit(session, ctx, user, action, object_type="phone", object_id=phone)
        await notify_board(session, user.agency)
        await session.commit()
