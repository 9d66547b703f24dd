"""Escalation timers as rows (data functions: no commits).

The statements are built once, with bind parameters: building and hashing a statement costs
more CPU than running it, and moves run them as CTEs of their own statement. No parameter is
named after a column: SQLAlchemy would read it as one more column to set.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, bindparam, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.tables import TIMERS
from shared.db.array_inserts import array_insert, array_parameters


class TimerKind(StrEnum):
    SMS_TIMEOUT = "sms_timeout"
    """No answer to the SMS: call instead."""
    CALL_TIMEOUT = "call_timeout"
    """No answer to the call either: the assignment times out and the next one is paged."""
    CONTACT_LOG = "contact_log"
    """A day after acceptance: the call-out counts as ended and the specialist is asked to log
    its contacts (`contact_log_invitations`), unless a stand-down asked first."""


@dataclass(frozen=True, slots=True)
class FiredTimer:
    assignment_id: uuid.UUID
    kind: TimerKind


_PENDING = (TIMERS.c.fired_at.is_(None), TIMERS.c.cancelled_at.is_(None))
_COLUMNS = ("assignment_id", "incident_id", "kind", "due_at")

TIMERS_INSERT = array_insert(TIMERS, _COLUMNS, prefix="timer").on_conflict_do_nothing(
    index_elements=[TIMERS.c.assignment_id, TIMERS.c.kind]
)
"""Starts the timers of `timer_parameters`; a second start of an assignment's timer of the same
kind changes nothing."""

TIMERS_CANCEL = (
    update(TIMERS)
    .where(
        TIMERS.c.assignment_id == bindparam("cancel_assignment_id"),
        *_PENDING,
        or_(
            bindparam("cancel_kind", type_=String).is_(None),
            TIMERS.c.kind == bindparam("cancel_kind", type_=String),
        ),
    )
    .values(cancelled_at=bindparam("cancel_at"))
)
"""Cancels an assignment's pending timers (parameters: `cancel_parameters`)."""

_BRING_FORWARD = (
    update(TIMERS)
    .where(
        TIMERS.c.assignment_id == bindparam("forward_assignment_id"),
        TIMERS.c.kind == bindparam("forward_kind"),
        *_PENDING,
    )
    .values(due_at=func.least(TIMERS.c.due_at, bindparam("due_by", type_=TIMERS.c.due_at.type)))
)

_CLAIM_DUE = (
    update(TIMERS)
    .where(TIMERS.c.id == bindparam("timer_id"), TIMERS.c.due_at <= bindparam("now"), *_PENDING)
    .values(fired_at=bindparam("now"))
    .returning(TIMERS.c.assignment_id, TIMERS.c.kind)
)


def timer_row(
    *, assignment_id: uuid.UUID, incident_id: uuid.UUID, kind: TimerKind, due_at: datetime
) -> dict[str, Any]:
    return {
        "assignment_id": assignment_id,
        "incident_id": incident_id,
        "kind": kind.value,
        "due_at": due_at,
    }


def timer_parameters(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """The parameters of `TIMERS_INSERT` for `rows` (of `timer_row`)."""
    return array_parameters(rows, _COLUMNS, prefix="timer")


def cancel_parameters(
    *, assignment_id: uuid.UUID, at: datetime, kind: TimerKind | None = None
) -> dict[str, Any]:
    """The parameters of `TIMERS_CANCEL`: the assignment's pending timers of `kind`, or all of
    them, are cancelled at `at`."""
    return {
        "cancel_assignment_id": assignment_id,
        "cancel_at": at,
        "cancel_kind": None if kind is None else kind.value,
    }


async def bring_forward(
    session: AsyncSession, *, assignment_id: uuid.UUID, kind: TimerKind, due_by: datetime
) -> None:
    """Make the pending timer fire no later than `due_by` (it never moves later)."""
    await session.execute(
        _BRING_FORWARD,
        {"forward_assignment_id": assignment_id, "forward_kind": kind.value, "due_by": due_by},
    )


async def claim_due_timer(
    session: AsyncSession, *, timer_id: int, now: datetime
) -> FiredTimer | None:
    """Mark the timer fired if it is due and still pending; None when it is not (anymore).

    The conditional update is what fires a timer exactly once, across restarts and processes.
    """
    row = (await session.execute(_CLAIM_DUE, {"timer_id": timer_id, "now": now})).one_or_none()
    return None if row is None else FiredTimer(row.assignment_id, TimerKind(row.kind))
