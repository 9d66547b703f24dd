"""What coordinators ask of the dispatcher from the console (data functions: no commits):
stand the team down, and page one named specialist by hand.

Both lock the incident's decision first, as every change to its assignments does. A command the
dispatcher cannot carry out (the incident closed meanwhile, the specialist no longer eligible,
every place taken) changes nothing and tells the coordinators why: the console checks the same
before it sends the command, so this happens only when something changed in between.
"""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import AlertReason, raise_alert
from services.dispatcher.assignment_moves import end
from services.dispatcher.assignment_states import AssignmentState, is_open
from services.dispatcher.context import DispatcherContext
from services.dispatcher.records import DecisionRow, lock_decision
from services.dispatcher.selection import ineligibility, plan_pages
from services.dispatcher.staffing import ask_for_approval, overtime_eligible
from services.dispatcher.staffing_picture import load_staffing_picture
from services.dispatcher.staffing_writes import StaffingWrites
from services.dispatcher.tables import DECISIONS
from shared.events import (
    ActivationClosed,
    Event,
    ManualPageRequested,
    NoticeRequested,
    PageFacts,
    StandDownRequested,
)
from shared.outbox.rows import write_events

STOOD_DOWN = "stood_down"
"""The reason of an assignment cancelled because the team was stood down."""

TOLD_OF_STAND_DOWN = frozenset(
    {AssignmentState.PAGED, AssignmentState.CALLING, AssignmentState.ACCEPTED}
)
"""Who gets the "no longer needed" SMS: everyone already paged or accepted."""

_CLOSE = (
    update(DECISIONS)
    .where(
        DECISIONS.c.incident_id == bindparam("close_incident_id"), DECISIONS.c.closed_at.is_(None)
    )
    .values(closed_at=bindparam("close_at"), closed_by=bindparam("close_by"))
)


class UnknownIncident(Exception):
    """A command for an incident the dispatcher never decided on (or of another agency)."""


async def _decision_of(
    session: AsyncSession, event: StandDownRequested | ManualPageRequested
) -> DecisionRow:
    decision = await lock_decision(session, event.incident_id)
    if decision is None or decision.agency != event.agency:
        raise UnknownIncident(f"no decided incident {event.incident_id} of {event.agency!r}")
    return decision


async def on_stand_down(
    session: AsyncSession, ctx: DispatcherContext, event: StandDownRequested
) -> None:
    """Close the incident, cancel its open assignments, tell those paged or accepted."""
    decision = await _decision_of(session, event)
    if decision.closed_at is not None:
        return
    now = ctx.clock.now()
    await session.execute(
        _CLOSE,
        {
            "close_incident_id": decision.incident_id,
            "close_at": now,
            "close_by": event.requested_by,
        },
    )
    picture = await load_staffing_picture(
        session, agency=decision.agency, incident_id=decision.incident_id, now=now
    )
    facts = PageFacts.model_validate(decision.page_facts)
    events: list[Event] = [
        ActivationClosed(
            occurred_at=now,
            incident_id=decision.incident_id,
            agency=decision.agency,
            reason=STOOD_DOWN,
            closed_by=event.requested_by,
        )
    ]
    for assignment in picture.assignments:
        if not is_open(assignment.state):
            continue
        if assignment.state in TOLD_OF_STAND_DOWN:
            events.append(
                NoticeRequested(
                    occurred_at=now,
                    assignment_id=assignment.id,
                    incident_id=assignment.incident_id,
                    member_id=assignment.member_id,
                    phone=assignment.phone,
                    notice="stood_down",
                    facts=facts,
                )
            )
        await end(
            session,
            ctx,
            assignment=assignment,
            new=AssignmentState.CANCELLED,
            reason=STOOD_DOWN,
            stood_down=True,
        )
    await write_events(session, ctx.topics, *events)


async def on_manual_page(
    session: AsyncSession, ctx: DispatcherContext, event: ManualPageRequested
) -> None:
    """Assign the named specialist to a free place of the incident, paged at once (or waiting
    for the Bureau Director consult when the agency's rule asks for it)."""
    decision = await _decision_of(session, event)
    now = ctx.clock.now()
    refusal = None
    if decision.closed_at is not None:
        refusal = "the incident was closed"
    elif not decision.activate:
        refusal = "the incident does not activate the team"
    picture = await load_staffing_picture(
        session, agency=decision.agency, incident_id=decision.incident_id, now=now
    )
    candidate = next((c for c in picture.candidates if c.member_id == event.member_id), None)
    assigned = {a.member_id for a in picture.assignments}
    open_now = [a for a in picture.assignments if is_open(a.state)]
    free_slots = [
        slot
        for slot in range(1, decision.specialists + 1)
        if slot not in {a.slot for a in open_now}
    ]
    if refusal is None and candidate is None:
        refusal = f"{event.member_id} is not on the roster"
    if refusal is None and candidate is not None:
        why = ineligibility(
            candidate.specialist,
            involved_member_ids=set(decision.involved_member_ids),
            already_assigned_member_ids=assigned,
        )
        if why is not None:
            refusal = f"{event.member_id} cannot be paged ({why.value.replace('_', ' ')})"
    if refusal is None and not free_slots:
        refusal = (
            f"all {decision.specialists} places are taken: authorise more specialists or "
            "stand one down first"
        )
    if refusal is not None or candidate is None:
        await raise_alert(
            session,
            ctx.topics,
            agency=decision.agency,
            incident_id=decision.incident_id,
            reason=AlertReason.MANUAL_PAGE_REFUSED,
            message=f"The page of {event.member_id} asked by {event.requested_by} was not "
            f"sent: {refusal}.",
            dedupe_key=f"{AlertReason.MANUAL_PAGE_REFUSED}:{event.event_id}",
            at=now,
        )
        return
    agency = ctx.registry.get(decision.agency)
    plan = plan_pages(
        [candidate],
        specialists=1,
        open_assignments=0,
        on_duty_rule=agency.on_duty_specialists.rule,
    )
    (pick,) = plan.picks
    writes = StaffingWrites(ctx, decision, now)
    assignment = writes.assign(
        member_id=pick.member_id,
        phone=candidate.specialist.phone,
        slot=free_slots[0],
        paged=(pick.member_id in picture.approved or pick.initial_state is AssignmentState.PAGED),
        overtime_eligible=overtime_eligible(agency),
        remind_supervisor=pick.remind_supervisor and agency.on_duty_specialists.remind_supervisor,
        by=event.requested_by,
    )
    await writes.write(session)
    if assignment.state is AssignmentState.AWAITING_APPROVAL:
        await ask_for_approval(session, ctx, assignment)
