"""Escalation timers as rows (data functions: no commits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.dispatcher.models import EscalationTimer


class TimerKind(StrEnum):
    SMS_TIMEOUT = "sms_timeout"
    """No answer to the SMS: call instead."""
    CALL_TIMEOUT = "call_timeout"
    """No answer to the call either: the assignment times out and the next one is paged."""


def _pending() -> tuple[ColumnElement[bool], ...]:
    return (EscalationTimer.fired_at.is_(None), EscalationTimer.cancelled_at.is_(None))


async def start_timer(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    incident_id: uuid.UUID,
    kind: TimerKind,
    due_at: datetime,
) -> None:
    """Start the assignment's timer of this kind; a second start changes nothing."""
    await session.execute(
        insert(EscalationTimer)
        .values(assignment_id=assignment_id, incident_id=incident_id, kind=kind, due_at=due_at)
        .on_conflict_do_nothing(index_elements=["assignment_id", "kind"])
    )


async def cancel_timers(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    at: datetime,
    kind: TimerKind | None = None,
) -> None:
    """Cancel the assignment's pending timers (of one kind, or all)."""
    statement = (
        update(EscalationTimer)
        .where(EscalationTimer.assignment_id == assignment_id, *_pending())
        .values(cancelled_at=at)
    )
    if kind is not None:
        statement = statement.where(EscalationTimer.kind == kind)
    await session.execute(statement)


async def bring_forward(
    session: AsyncSession, *, assignment_id: uuid.UUID, kind: TimerKind, due_by: datetime
) -> None:
    """Make the pending timer fire no later than `due_by` (it never moves later)."""
    await session.execute(
        update(EscalationTimer)
        .where(
            EscalationTimer.assignment_id == assignment_id,
            EscalationTimer.kind == kind,
            *_pending(),
        )
        .values(due_at=func.least(EscalationTimer.due_at, due_by))
    )


async def claim_due_timer(
    session: AsyncSession, *, timer_id: int, now: datetime
) -> EscalationTimer | None:
    """Mark the timer fired if it is due and still pending; None when it is not (anymore).

    The conditional update is what fires a timer exactly once, across restarts and processes.
    """
    return (
        await session.execute(
            update(EscalationTimer)
            .where(EscalationTimer.id == timer_id, EscalationTimer.due_at <= now, *_pending())
            .values(fired_at=now)
            .returning(EscalationTimer)
        )
    ).scalar_one_or_none()
