"""Filling an incident's open places (CONTRACT §6.1-6.5) from the roster (no commits).

Called with the incident's decision locked, after anything that may free or add a place: a new
or changed decision, a decline, a timeout, an unreachable number, an approval. It pages the
approved members who were waiting, then assigns the next eligible specialists in the §6.2 order
to the free places, and tells the coordinators once when no one is left for a place.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import AlertReason, raise_alert
from services.dispatcher.assignment_moves import send_page, state_of
from services.dispatcher.assignment_states import AssignmentState, is_open
from services.dispatcher.candidates import load_candidates
from services.dispatcher.context import DispatcherContext
from services.dispatcher.records import approved_member_ids, incident_assignments
from services.dispatcher.selection import Candidate, Pick, eligible, plan_pages, rank
from shared.activation_records import ActivationDecision, Assignment
from shared.policy import AgencyConfig, OvertimeRule


def overtime_eligible(agency: AgencyConfig) -> bool:
    """kcmo 830 §III.D.1: overtime when the PST Manager activated the specialist; every kcmo
    activation is the manager's (§III.E: "the PST Manager ... will activate"), so always.
    kck FOP #4 §F.3: never."""
    return agency.overtime.rule is OvertimeRule.WHEN_ACTIVATED_BY_MANAGER


async def staff_incident(
    session: AsyncSession, ctx: DispatcherContext, *, decision: ActivationDecision
) -> None:
    """Page whoever is now due for the incident; nothing when it does not activate."""
    if not decision.activate:
        return
    agency = ctx.registry.get(decision.agency)
    assignments = list(await incident_assignments(session, decision.incident_id))
    approved = await approved_member_ids(session, decision.incident_id)
    for assignment in assignments:
        if state_of(assignment) is AssignmentState.AWAITING_APPROVAL and (
            assignment.member_id in approved
        ):
            await send_page(session, ctx, decision=decision, assignment=assignment)

    open_now = [a for a in assignments if is_open(state_of(a))]
    ranked = rank(
        eligible(
            await load_candidates(
                session,
                agency=decision.agency,
                incident_id=decision.incident_id,
                now=ctx.clock.now(),
            ),
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
    by_member = {candidate.member_id: candidate for candidate in ranked}
    for pick, slot in zip(plan.picks, free_slots, strict=False):
        assignment = await _assign(
            session, ctx, decision, agency, by_member[pick.member_id], pick, slot
        )
        if assignment.member_id in approved or pick.initial_state is AssignmentState.PAGED:
            await send_page(session, ctx, decision=decision, assignment=assignment)
        else:
            await _ask_for_approval(session, ctx, assignment)
    await _tell_of_shortfall(
        session, ctx, decision, plan.shortfall, assigned=len(assignments) + len(plan.picks)
    )


async def _assign(
    session: AsyncSession,
    ctx: DispatcherContext,
    decision: ActivationDecision,
    agency: AgencyConfig,
    candidate: Candidate,
    pick: Pick,
    slot: int,
) -> Assignment:
    """A new assignment in `awaiting_approval`, holding `slot`; the database refuses it
    (IntegrityError) if another dispatcher took the place or the member first."""
    now = ctx.clock.now()
    assignment = Assignment(
        id=uuid.uuid4(),
        incident_id=decision.incident_id,
        agency=decision.agency,
        member_id=candidate.member_id,
        phone=candidate.specialist.phone,
        state=AssignmentState.AWAITING_APPROVAL.value,
        slot=slot,
        slot_cap=decision.specialists,
        overtime_eligible=overtime_eligible(agency),
        remind_supervisor=pick.remind_supervisor and agency.on_duty_specialists.remind_supervisor,
        created_at=now,
        state_changed_at=now,
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def _ask_for_approval(
    session: AsyncSession, ctx: DispatcherContext, assignment: Assignment
) -> None:
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
    decision: ActivationDecision,
    shortfall: int,
    *,
    assigned: int,
) -> None:
    """Alert when places are left unfilled, once per shortfall: again only when it grows."""
    previous, decision.alerted_shortfall = decision.alerted_shortfall, shortfall
    if shortfall <= previous:
        return
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
