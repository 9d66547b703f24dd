"""Moving one assignment through its states (CONTRACT §6.6), with the timers and the events
each move implies (data functions: no commits).

Every move is checked with `can_transition`, so an assignment never moves backwards and a late
answer to a page that was withdrawn changes nothing. A move is one statement: the assignment's
UPDATE carries the timers it stops or starts and the events it announces as CTEs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import DateTime, Update, bindparam, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ColumnElement

from services.dispatcher.alerts import UNREACHABLE, tell_of_repeated_failures
from services.dispatcher.assignment_states import (
    AWAITING_ANSWER_STATES,
    AssignmentState,
    can_transition,
)
from services.dispatcher.contact_log_invitations import contact_log_timer, invitation
from services.dispatcher.context import DispatcherContext
from services.dispatcher.failure_tracking import is_failure
from services.dispatcher.records import AssignmentRow, DecisionRow
from services.dispatcher.tables import ASSIGNMENTS
from services.dispatcher.timers import (
    TIMERS_CANCEL,
    TIMERS_INSERT,
    TimerKind,
    cancel_parameters,
    timer_parameters,
    timer_row,
)
from shared.events import AssignmentChanged, Event, PageFacts, PageRequested, PageWithdrawn
from shared.outbox.enqueue import flag_outbox_written
from shared.outbox.rows import OUTBOX_INSERT, outbox_parameters


class IllegalMove(Exception):
    """A move the state table forbids: a bug in the caller, never an event's fault."""


def check_move(
    assignment: AssignmentRow, new: AssignmentState, *, stood_down: bool = False
) -> None:
    if not can_transition(assignment.state, new, incident_stood_down=stood_down):
        raise IllegalMove(f"assignment {assignment.id}: {assignment.state} → {new}")


def page_request(
    ctx: DispatcherContext,
    *,
    facts: PageFacts,
    assignment: AssignmentRow,
    channel: Literal["sms", "call"],
    answer_by: datetime,
    now: datetime,
) -> PageRequested:
    """The page command that asks the notifier to reach the assignment's specialist."""
    return PageRequested(
        occurred_at=now,
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        member_id=assignment.member_id,
        phone=assignment.phone,
        channel=channel,
        facts=facts,
        remind_supervisor=assignment.remind_supervisor,
        answer_by=answer_by,
    )


def moved(
    assignment: AssignmentRow,
    new: AssignmentState,
    at: datetime,
    *,
    reason: str | None = None,
    next_step_at: datetime | None = None,
    by: str | None = None,
) -> AssignmentChanged:
    """The event that tells read models (the console) of a move (or of a new assignment);
    `by`: the coordinator who asked for the specialist by hand."""
    return AssignmentChanged(
        occurred_at=at,
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        agency=assignment.agency,
        member_id=assignment.member_id,
        state=new.value,
        reason=reason,
        next_step_at=next_step_at,
        by=by,
    )


def _move_statement(
    columns: Mapping[str, ColumnElement[Any]], parts: Sequence[UpdateBase]
) -> Update:
    """Moves `move_assignment_id` to `move_state` at `move_at` and sets `columns`; `parts` (the
    timers the move stops or starts, the events it announces) run as CTEs of the same statement.
    No parameter is named after a column: SQLAlchemy would read it as one more column to set."""
    statement = (
        update(ASSIGNMENTS)
        .where(ASSIGNMENTS.c.id == bindparam("move_assignment_id"))
        .values(state=bindparam("move_state"), state_changed_at=bindparam("move_at"), **columns)
    )
    for index, part in enumerate(parts):
        statement = statement.add_cte(part.cte(f"move_{index}"))
    return statement


_START_CALL = _move_statement({}, [TIMERS_CANCEL, TIMERS_INSERT, OUTBOX_INSERT])
_ACCEPT = _move_statement(
    {"responded_at": bindparam("move_at")}, [TIMERS_CANCEL, TIMERS_INSERT, OUTBOX_INSERT]
)
_END = _move_statement(
    {
        "reason": bindparam("move_reason"),
        "responded_at": func.coalesce(
            bindparam("move_answered_at", type_=DateTime(timezone=True)),
            ASSIGNMENTS.c.responded_at,
        ),
    },
    [TIMERS_CANCEL, OUTBOX_INSERT],
)


async def _move(
    session: AsyncSession,
    ctx: DispatcherContext,
    statement: Update,
    assignment: AssignmentRow,
    new: AssignmentState,
    at: datetime,
    parameters: Mapping[str, Any],
    *,
    events: Sequence[Event],
    stood_down: bool = False,
) -> AssignmentRow:
    """Run one of the moves' statements, which writes `events` to the outbox."""
    check_move(assignment, new, stood_down=stood_down)
    values = {
        "move_assignment_id": assignment.id,
        "move_state": new.value,
        "move_at": at,
        **cancel_parameters(assignment_id=assignment.id, at=at),
        **parameters,
        **outbox_parameters(ctx.topics, events),
    }
    await session.execute(statement, values)
    if events:
        await flag_outbox_written(session)
    return replace(assignment, state=new)


async def start_call(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    decision: DecisionRow,
    assignment: AssignmentRow,
) -> None:
    """paged → calling: the SMS went unanswered (or cannot arrive), so a voice call follows."""
    now = ctx.clock.now()
    answer_by = now + ctx.call_ack_timeout
    call = page_request(
        ctx,
        facts=PageFacts.model_validate(decision.page_facts),
        assignment=assignment,
        channel="call",
        answer_by=answer_by,
        now=now,
    )
    timer = timer_row(
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        kind=TimerKind.CALL_TIMEOUT,
        due_at=answer_by,
    )
    await _move(
        session,
        ctx,
        _START_CALL,
        assignment,
        AssignmentState.CALLING,
        now,
        {"cancel_kind": TimerKind.SMS_TIMEOUT.value, **timer_parameters([timer])},
        events=[
            call,
            moved(assignment, AssignmentState.CALLING, now, next_step_at=answer_by),
        ],
    )


async def accept(
    session: AsyncSession, ctx: DispatcherContext, *, assignment: AssignmentRow
) -> None:
    """paged or calling → accepted; the call-out's day starts (`contact_log_invitations`)."""
    now = ctx.clock.now()
    await _move(
        session,
        ctx,
        _ACCEPT,
        assignment,
        AssignmentState.ACCEPTED,
        now,
        timer_parameters([contact_log_timer(assignment, now)]),
        events=[moved(assignment, AssignmentState.ACCEPTED, now)],
    )


async def end(
    session: AsyncSession,
    ctx: DispatcherContext,
    *,
    assignment: AssignmentRow,
    new: AssignmentState,
    reason: str,
    stood_down: bool = False,
) -> None:
    """→ declined, timed_out or cancelled: timers stop; a page still out is withdrawn so a
    late reply is not taken; a declined or unanswered page may be the member's third failure;
    an accepted call-out that ends asks its specialist to log the contacts.
    `stood_down`: the incident was stood down, so even an accepted assignment is cancelled."""
    now = ctx.clock.now()
    events: list[Event] = []
    if assignment.state in AWAITING_ANSWER_STATES and new is not AssignmentState.DECLINED:
        events.append(
            PageWithdrawn(
                occurred_at=now,
                assignment_id=assignment.id,
                incident_id=assignment.incident_id,
                reason=reason,
            )
        )
    events.append(moved(assignment, new, now, reason=reason))
    if assignment.state is AssignmentState.ACCEPTED:
        asked = await invitation(session, assignment, ended_at=now)
        if asked is not None:
            events.append(asked)
    answered_at = now if new is AssignmentState.DECLINED else None
    ended = await _move(
        session,
        ctx,
        _END,
        assignment,
        new,
        now,
        {"move_reason": reason, "move_answered_at": answered_at},
        events=events,
        stood_down=stood_down,
    )
    if is_failure(new) and reason != UNREACHABLE:
        await tell_of_repeated_failures(session, ctx.topics, ended=ended, at=now)
