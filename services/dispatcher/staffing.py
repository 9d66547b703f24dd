"""Filling an incident's open places (CONTRACT §6.1-6.5) from the roster (no commits).

Called with the incident's decision locked, after anything that may free or add a place: a new
or changed decision, a decline, a timeout, an unreachable number, an approval. It pages the
approved members who were waiting, then assigns the next eligible specialists in the §6.2 order
to the free places, and tells the coordinators once when no one is left for a place.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import AlertReason, raise_alert
from services.dispatcher.assignment_states import AssignmentState, is_open
from services.dispatcher.context import DispatcherContext
from services.dispatcher.records import AssignmentRow, DecisionRow
from services.dispatcher.selection import eligible, plan_pages, rank
from services.dispatcher.staffing_picture import load_staffing_picture
from services.dispatcher.staffing_writes import StaffingWrites
from shared.events import Event
from shared.policy import AgencyConfig, OvertimeRule


def overtime_eligible(agency: AgencyConfig) -> bool:
    """kcmo 830 §III.D.1: overtime when the PST Manager activated the specialist; every kcmo
    activation is the manager's (§III.E: "the PST Manager ... will activate"), so always.
    kck FOP #4 §F.3: never."""
    return agency.overtime.rule is OvertimeRule.WHEN_ACTIVATED_BY_MANAGER


async def staff_incident(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    decision: DecisionRow,
    announce: Sequence[Event] = (),
) -> None:
    """Page whoever is now due for the incident; nothing when it does not activate or was
    closed. `announce`: events to write with the staffing (the new decision's).

    One query reads what the choice needs and one statement writes what it decided; the
    coordinators' alerts (rare) follow.
    """
    now = ctx.clock.now()
    writes = StaffingWrites(ctx, decision, now)
    writes.announce(announce)
    if not decision.activate or decision.closed_at is not None:
        await writes.write(session)
        return
    agency = ctx.registry.get(decision.agency)
    picture = await load_staffing_picture(
        session, agency=decision.agency, incident_id=decision.incident_id, now=now
    )
    assignments: list[AssignmentRow] = []
    for assignment in picture.assignments:
        if (
            assignment.state is AssignmentState.AWAITING_APPROVAL
            and assignment.member_id in picture.approved
        ):
            assignments.append(writes.page_approved(assignment))
        else:
            assignments.append(assignment)

    open_now = [a for a in assignments if is_open(a.state)]
    ranked = rank(
        eligible(
            picture.candidates,
            set(decision.involved_member_ids),
            {a.member_id for a in assignments},
        )
    )
    plan = plan_pages(
        ranked,
        specialists=decision.specialists,
        open_assignments=len(open_now),
        on_duty_rule=agency.on_duty_specialists.rule,
    )
    taken = {a.slot for a in open_now}
    free_slots = [slot for slot in range(1, decision.specialists + 1) if slot not in taken]
    phones = {candidate.member_id: candidate.specialist.phone for candidate in ranked}
    waiting: list[AssignmentRow] = []
    for pick, slot in zip(plan.picks, free_slots, strict=False):
        assignment = writes.assign(
            member_id=pick.member_id,
            phone=phones[pick.member_id],
            slot=slot,
            paged=(
                pick.member_id in picture.approved or pick.initial_state is AssignmentState.PAGED
            ),
            overtime_eligible=overtime_eligible(agency),
            remind_supervisor=(
                pick.remind_supervisor and agency.on_duty_specialists.remind_supervisor
            ),
        )
        if assignment.state is AssignmentState.AWAITING_APPROVAL:
            waiting.append(assignment)
    previous_shortfall = decision.alerted_shortfall
    writes.alerted_shortfall(plan.shortfall)
    await writes.write(session)
    for assignment in waiting:
        await ask_for_approval(session, ctx, assignment)
    if plan.shortfall > previous_shortfall:
        await _tell_of_shortfall(
            session,
            ctx,
            decision,
            plan.shortfall,
            assigned=len(assignments) + len(plan.picks),
        )


async def ask_for_approval(
    session: AsyncSession, ctx: DispatcherContext, assignment: AssignmentRow
) -> None:
    """Tell the coordinators that an on-duty choice waits for the Bureau Director consult."""
    await raise_alert(
        session,
        ctx.topics,
        agency=assignment.agency,
        incident_id=assignment.incident_id,
        reason=AlertReason.APPROVAL_NEEDED,
        message=(
            f"Specialist {assignment.member_id} is on duty: they are paged once a coordinator "
            "records that their Bureau Director was consulted."
        ),
        dedupe_key=f"{AlertReason.APPROVAL_NEEDED}:{assignment.id}",
        at=ctx.clock.now(),
    )


async def _tell_of_shortfall(
    session: AsyncSession,
    ctx: DispatcherContext,
    decision: DecisionRow,
    shortfall: int,
    *,
    assigned: int,
) -> None:
    """Alert when places are left unfilled, once per shortfall: again only when it grows (the
    shortfall told of is stored with the decision by `StaffingWrites`)."""
    await raise_alert(
        session,
        ctx.topics,
        agency=decision.agency,
        incident_id=decision.incident_id,
        reason=AlertReason.NOBODY_LEFT,
        message=(
            f"No eligible specialist is left to page for {shortfall} of the "
            f"{decision.specialists} places of this incident."
        ),
        dedupe_key=f"{AlertReason.NOBODY_LEFT}:{decision.incident_id}:{assigned}:{shortfall}",
        at=ctx.clock.now(),
    )
