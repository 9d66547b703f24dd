"""What became of a page (from the notifier), and what the dispatcher does next.

- accepted → accepted; declined → declined, and the next specialist is paged;
- the SMS could not be delivered, or the number opted out of SMS → call now (an opt-out also
  tells the coordinators);
- the SMS may or may not have gone (send_uncertain) → not resent; the call comes sooner;
- the page cannot be sent at all (send_failed) → the assignment ends (timed_out, unreachable),
  the coordinators are told and the next specialist is paged;
- sent, delivered, call_unanswered → recorded only (the call timeout moves on).

Every outcome is recorded; one for an assignment that has moved on changes nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import UNREACHABLE, AlertReason, raise_alert
from services.dispatcher.assignment_moves import accept, end, start_call, state_of
from services.dispatcher.assignment_states import (
    AWAITING_ANSWER_STATES,
    AssignmentState,
    can_transition,
)
from services.dispatcher.context import DispatcherContext
from services.dispatcher.models import PageOutcomeRecord
from services.dispatcher.records import lock_assignment, lock_decision
from services.dispatcher.staffing import staff_incident
from services.dispatcher.timers import TimerKind, bring_forward
from shared.activation_records import ActivationDecision, Assignment
from shared.events import PageOutcomeReported

UNCERTAIN_SMS_CALL_WITHIN = timedelta(seconds=30)
"""After an SMS that may not have gone out, the call follows within this time."""


class UnknownAssignment(Exception):
    """An outcome for an assignment this dispatcher never made: a bug somewhere, for a person."""


async def on_page_outcome(
    session: AsyncSession, ctx: DispatcherContext, event: PageOutcomeReported
) -> None:
    decision = await lock_decision(session, event.incident_id)
    assignment = await lock_assignment(session, event.assignment_id)
    if decision is None or assignment is None or assignment.incident_id != event.incident_id:
        raise UnknownAssignment(
            f"outcome {event.outcome} for unknown assignment {event.assignment_id} "
            f"of incident {event.incident_id}"
        )
    acted_on = await _act(session, ctx, event, decision, assignment)
    session.add(
        PageOutcomeRecord(
            event_id=event.event_id,
            assignment_id=event.assignment_id,
            incident_id=event.incident_id,
            channel=event.channel,
            outcome=event.outcome,
            detail=event.detail,
            reported_at=event.occurred_at,
            recorded_at=ctx.clock.now(),
            acted_on=acted_on,
        )
    )


async def _act(
    session: AsyncSession,
    ctx: DispatcherContext,
    event: PageOutcomeReported,
    decision: ActivationDecision,
    assignment: Assignment,
) -> bool:
    state = state_of(assignment)
    now = ctx.clock.now()
    match event.outcome:
        case "accepted" if can_transition(state, AssignmentState.ACCEPTED):
            await accept(session, ctx, assignment=assignment)
            return True
        case "declined" if can_transition(state, AssignmentState.DECLINED):
            await end(
                session, ctx, assignment=assignment, new=AssignmentState.DECLINED, reason="declined"
            )
            await staff_incident(session, ctx, decision=decision)
            return True
        case "delivery_failed" | "opted_out":
            if event.outcome == "opted_out":
                await raise_alert(
                    session,
                    ctx.topics,
                    agency=assignment.agency,
                    incident_id=assignment.incident_id,
                    reason=AlertReason.OPTED_OUT,
                    message=(
                        f"Specialist {assignment.member_id}'s number has opted out of SMS "
                        "(STOP): pages reach them only by voice call until they opt back in."
                    ),
                    dedupe_key=f"{AlertReason.OPTED_OUT}:{assignment.id}",
                    at=now,
                )
            if event.channel == "sms" and state is AssignmentState.PAGED:
                await start_call(session, ctx, decision=decision, assignment=assignment)
                return True
            return False
        case "send_uncertain" if event.channel == "sms" and state is AssignmentState.PAGED:
            await bring_forward(
                session,
                assignment_id=assignment.id,
                kind=TimerKind.SMS_TIMEOUT,
                due_by=now + UNCERTAIN_SMS_CALL_WITHIN,
            )
            return True
        case "send_failed" if state in AWAITING_ANSWER_STATES:
            await end(
                session,
                ctx,
                assignment=assignment,
                new=AssignmentState.TIMED_OUT,
                reason=UNREACHABLE,
            )
            await raise_alert(
                session,
                ctx.topics,
                agency=assignment.agency,
                incident_id=assignment.incident_id,
                reason=AlertReason.UNREACHABLE,
                message=(
                    f"Specialist {assignment.member_id} could not be paged by {event.channel} "
                    f"({event.detail or 'permanent send failure'}): check their roster phone."
                ),
                dedupe_key=f"{AlertReason.UNREACHABLE}:{assignment.id}",
                at=now,
            )
            await staff_incident(session, ctx, decision=decision)
            return True
    return False
