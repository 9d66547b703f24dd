"""What became of a page (from the notifier), and what the dispatcher does next.

- accepted → accepted; declined → declined, and the next specialist is paged;
- the SMS could not be delivered, or the number opted out of SMS → call now (an opt-out also
  tells the coordinators);
- the SMS may or may not have gone (send_uncertain) → not resent; the call comes sooner;
- the page cannot be sent at all (send_failed) → the assignment ends (timed_out, unreachable),
  the coordinators are told and the next specialist is paged;
- sent, delivered, call_unanswered → recorded only (the call timeout moves on).

Every outcome is recorded; one for an assignment that has moved on changes nothing else. The
outcomes that never change anything (every page's "sent", most of all) are claimed and recorded
in one statement, without locking the incident: there is nothing to take turns on; a batch of
them (a burst) is claimed and recorded in one statement too (`record_outcomes_once`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import UNREACHABLE, AlertReason, raise_alert
from services.dispatcher.assignment_moves import accept, end, start_call
from services.dispatcher.assignment_states import (
    AWAITING_ANSWER_STATES,
    AssignmentState,
    can_transition,
)
from services.dispatcher.context import CONSUMER, DispatcherContext
from services.dispatcher.records import (
    AssignmentRow,
    DecisionRow,
    lock_assignment,
    lock_decision,
)
from services.dispatcher.staffing import staff_incident
from services.dispatcher.tables import ASSIGNMENTS, PAGE_OUTCOMES
from services.dispatcher.timers import TimerKind, bring_forward
from services.dispatcher.transactions import single_statement
from shared.db.array_inserts import array_of, array_parameters
from shared.events import PageOutcomeReported
from shared.processed_events import (
    claim_many_parameters,
    claim_many_statement,
    claim_parameters,
    claim_statement,
)

UNCERTAIN_SMS_CALL_WITHIN = timedelta(seconds=30)
"""After an SMS that may not have gone out, the call follows within this time."""


class UnknownAssignment(Exception):
    """An outcome for an assignment this dispatcher never made: a bug somewhere, for a person."""


RECORDED_ONLY: frozenset[str] = frozenset({"sent", "delivered", "call_unanswered"})
"""Outcomes that change nothing but the record, whatever the assignment's state."""


def changes_nothing(event: PageOutcomeReported) -> bool:
    return event.outcome in RECORDED_ONLY


def _record(
    ctx: DispatcherContext, event: PageOutcomeReported, *, acted_on: bool
) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "assignment_id": event.assignment_id,
        "incident_id": event.incident_id,
        "channel": event.channel,
        "outcome": event.outcome,
        "detail": event.detail,
        "reported_at": event.occurred_at,
        "recorded_at": ctx.clock.now(),
        "acted_on": acted_on,
    }


_RECORD_COLUMNS = tuple(column.name for column in PAGE_OUTCOMES.c if column.name != "id")


def _record_once_statement() -> Select[bool]:
    """Claims the event and records the outcome if its assignment is the incident's
    (parameters: `claim_parameters`, then `record_{column}` for the record); returns whether
    it is. An unknown assignment claims nothing, so the event is not spent."""
    known = (
        select(ASSIGNMENTS.c.id)
        .where(
            ASSIGNMENTS.c.id == bindparam("record_assignment_id"),
            ASSIGNMENTS.c.incident_id == bindparam("record_incident_id"),
        )
        .cte("known")
    )
    assignment_known = select(known.c.id).exists()
    claim = claim_statement(only_if=assignment_known).cte("claim")
    claimed = select(claim.c.event_id).exists()
    recorded = insert(PAGE_OUTCOMES).from_select(
        list(_RECORD_COLUMNS),
        select(
            *(
                bindparam(f"record_{name}", type_=PAGE_OUTCOMES.c[name].type)
                for name in _RECORD_COLUMNS
            )
        ).where(claimed),
    )
    return select(assignment_known).add_cte(recorded.cte("recorded"))


_RECORD_ONCE = _record_once_statement()
_RECORD = insert(PAGE_OUTCOMES)


def _record_many_once_statement() -> Select[int]:
    """Claims the events and records their outcomes (parameters: `claim_many_parameters`,
    then one array per column, `outcomes_{column}`); returns how many of the outcomes are for
    an assignment of their incident.

    Unlike `_RECORD_ONCE` it claims and records the outcomes of unknown assignments too: a
    count short of the outcomes means the caller must roll the transaction back (it cannot
    say which one is wrong, and need not: the one-at-a-time path does).
    """
    given = select(
        func.unnest(
            *(
                bindparam(f"outcomes_{name}", type_=array_of(PAGE_OUTCOMES.c[name].type))
                for name in _RECORD_COLUMNS
            )
        )
        .table_valued(*_RECORD_COLUMNS)
        .render_derived()
    ).cte("given")
    claim = claim_many_statement().cte("claim")
    claimed = cast(claim.c.event_id, PAGE_OUTCOMES.c.event_id.type)
    recorded = insert(PAGE_OUTCOMES).from_select(
        list(_RECORD_COLUMNS),
        select(*(given.c[name] for name in _RECORD_COLUMNS)).where(
            given.c.event_id.in_(select(claimed))
        ),
    )
    known = (
        select(func.count())
        .select_from(given)
        .join(
            ASSIGNMENTS,
            and_(
                ASSIGNMENTS.c.id == given.c.assignment_id,
                ASSIGNMENTS.c.incident_id == given.c.incident_id,
            ),
        )
    )
    return known.add_cte(recorded.cte("recorded"))


_RECORD_MANY_ONCE = _record_many_once_statement()


def _unknown(event: PageOutcomeReported) -> UnknownAssignment:
    return UnknownAssignment(
        f"outcome {event.outcome} for unknown assignment {event.assignment_id} "
        f"of incident {event.incident_id}"
    )


async def record_outcome_once(
    session: AsyncSession, ctx: DispatcherContext, event: PageOutcomeReported
) -> None:
    """Claim the event (`processed_events`) and record its outcome, which `changes_nothing`:
    one statement. Nothing is recorded when the event was claimed before.

    One statement is atomic by itself, so it runs without BEGIN and COMMIT: one round trip to
    the database instead of three, for every page sent.
    """
    await single_statement(session)
    record = _record(ctx, event, acted_on=False)
    assignment_known = (
        await session.execute(
            _RECORD_ONCE,
            {
                **claim_parameters(consumer=CONSUMER, event_id=str(event.event_id)),
                **{f"record_{name}": value for name, value in record.items()},
            },
        )
    ).scalar_one()
    if not assignment_known:
        raise _unknown(event)


async def record_outcomes_once(
    session: AsyncSession, ctx: DispatcherContext, events: Sequence[PageOutcomeReported]
) -> None:
    """Claim the events and record their outcomes, each of which `changes_nothing`: one
    statement, in the caller's transaction, however many there are. Those claimed before are
    not recorded again.

    Raises `UnknownAssignment` when any is for an assignment that is not its incident's; the
    caller's transaction must then be rolled back, as the statement claimed and recorded them
    all.
    """
    unique = list({event.event_id: event for event in events}.values())  # each event once
    records = [_record(ctx, event, acted_on=False) for event in unique]
    known = (
        await session.execute(
            _RECORD_MANY_ONCE,
            {
                **claim_many_parameters(
                    consumer=CONSUMER, event_ids=[str(event.event_id) for event in unique]
                ),
                **array_parameters(records, _RECORD_COLUMNS, prefix="outcomes"),
            },
        )
    ).scalar_one()
    if known != len(unique):
        raise UnknownAssignment(
            f"{len(unique) - known} of {len(unique)} outcomes are for unknown assignments"
        )


async def on_page_outcome(
    session: AsyncSession, ctx: DispatcherContext, event: PageOutcomeReported
) -> None:
    decision = await lock_decision(session, event.incident_id)
    assignment = await lock_assignment(session, event.assignment_id)
    if decision is None or assignment is None or assignment.incident_id != event.incident_id:
        raise _unknown(event)
    acted_on = await _act(session, ctx, event, decision, assignment)
    await session.execute(_RECORD, _record(ctx, event, acted_on=acted_on))


async def _act(
    session: AsyncSession,
    ctx: DispatcherContext,
    event: PageOutcomeReported,
    decision: DecisionRow,
    assignment: AssignmentRow,
) -> bool:
    state = assignment.state
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
