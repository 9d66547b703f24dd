"""Moving one assignment through its states (CONTRACT §6.6), with the timers and the events
each move implies (data functions: no commits).

Every move is checked with `can_transition`, so an assignment never moves backwards and a late
answer to a page that was withdrawn changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import UNREACHABLE, tell_of_repeated_failures
from services.dispatcher.assignment_states import (
    AWAITING_ANSWER_STATES,
    AssignmentState,
    can_transition,
)
from services.dispatcher.context import DispatcherContext
from services.dispatcher.failure_tracking import is_failure
from services.dispatcher.timers import TimerKind, cancel_timers, start_timer
from shared.activation_records import ActivationDecision, Assignment
from shared.events import PageFacts, PageRequested, PageWithdrawn
from shared.outbox.enqueue import enqueue


class IllegalMove(Exception):
    """A move the state table forbids: a bug in the caller, never an event's fault."""


def state_of(assignment: Assignment) -> AssignmentState:
    return AssignmentState(assignment.state)


def _move(assignment: Assignment, new: AssignmentState, at: datetime) -> AssignmentState:
    current = state_of(assignment)
    if not can_transition(current, new):
        raise IllegalMove(f"assignment {assignment.id}: {current} → {new}")
    assignment.state = new.value
    assignment.state_changed_at = at
    return current


async def send_page(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    decision: ActivationDecision,
    assignment: Assignment,
) -> None:
    """awaiting_approval → paged: the SMS goes out and its timeout starts."""
    now = ctx.clock.now()
    _move(assignment, AssignmentState.PAGED, now)
    assignment.paged_at = now
    await session.flush()
    answer_by = now + ctx.sms_ack_timeout
    await start_timer(
        session,
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        kind=TimerKind.SMS_TIMEOUT,
        due_at=answer_by,
    )
    await _request_page(session, ctx, decision, assignment, channel="sms", answer_by=answer_by)


async def start_call(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    decision: ActivationDecision,
    assignment: Assignment,
) -> None:
    """paged → calling: the SMS went unanswered (or cannot arrive), so a voice call follows."""
    now = ctx.clock.now()
    _move(assignment, AssignmentState.CALLING, now)
    await session.flush()
    answer_by = now + ctx.call_ack_timeout
    await cancel_timers(session, assignment_id=assignment.id, at=now, kind=TimerKind.SMS_TIMEOUT)
    await start_timer(
        session,
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        kind=TimerKind.CALL_TIMEOUT,
        due_at=answer_by,
    )
    await _request_page(session, ctx, decision, assignment, channel="call", answer_by=answer_by)


async def accept(session: AsyncSession, ctx: DispatcherContext, *, assignment: Assignment) -> None:
    """paged or calling → accepted."""
    now = ctx.clock.now()
    _move(assignment, AssignmentState.ACCEPTED, now)
    assignment.responded_at = now
    await session.flush()
    await cancel_timers(session, assignment_id=assignment.id, at=now)


async def end(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    assignment: Assignment,
    new: AssignmentState,
    reason: str,
) -> None:
    """→ declined, timed_out or cancelled: timers stop; a page still out is withdrawn so a
    late reply is not taken; a declined or unanswered page may be the member's third failure."""
    now = ctx.clock.now()
    was = _move(assignment, new, now)
    assignment.reason = reason
    if new is AssignmentState.DECLINED:
        assignment.responded_at = now
    await session.flush()
    await cancel_timers(session, assignment_id=assignment.id, at=now)
    if was in AWAITING_ANSWER_STATES and new is not AssignmentState.DECLINED:
        await enqueue(
            session,
            ctx.topics,
            PageWithdrawn(
                occurred_at=now,
                assignment_id=assignment.id,
                incident_id=assignment.incident_id,
                reason=reason,
            ),
        )
    if is_failure(new) and reason != UNREACHABLE:
        await tell_of_repeated_failures(session, ctx.topics, ended=assignment, at=now)


async def _request_page(
    session: AsyncSession,
    ctx: DispatcherContext,
    decision: ActivationDecision,
    assignment: Assignment,
    *,
    channel: Literal["sms", "call"],
    answer_by: datetime,
) -> None:
    await enqueue(
        session,
        ctx.topics,
        PageRequested(
            occurred_at=ctx.clock.now(),
            assignment_id=assignment.id,
            incident_id=assignment.incident_id,
            member_id=assignment.member_id,
            phone=assignment.phone,
            channel=channel,
            facts=PageFacts.model_validate(decision.page_facts),
            remind_supervisor=assignment.remind_supervisor,
            answer_by=answer_by,
        ),
    )
