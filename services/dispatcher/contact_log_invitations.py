"""Asking a specialist, once, to log the contacts of a call-out that has ended (issue 13).

An accepted assignment ends when the incident is stood down (or a revision withdraws it), or a
day after its acceptance (830 §IV.D.3.f wants the contacts counted; nothing says how long a
call-out lasts, and a day is what the coordinators asked for). Whichever comes first asks; the
other finds the `contact_log` timer fired or cancelled and asks nothing. Data functions: no
commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.records import AssignmentRow
from services.dispatcher.tables import ASSIGNMENTS, TIMERS
from services.dispatcher.timers import TimerKind, timer_row
from shared.events import ContactLogInvited

CALL_OUT_LASTS = timedelta(hours=24)
"""An accepted call-out counts as ended this long after its acceptance."""

_ACCEPTED = select(
    ASSIGNMENTS.c.responded_at,
    ASSIGNMENTS.c.overtime_eligible,
    select(TIMERS.c.fired_at)
    .where(
        TIMERS.c.assignment_id == ASSIGNMENTS.c.id,
        TIMERS.c.kind == TimerKind.CONTACT_LOG.value,
    )
    .scalar_subquery()
    .label("asked_at"),
).where(ASSIGNMENTS.c.id == bindparam("assignment_id"))


def contact_log_timer(assignment: AssignmentRow, accepted_at: datetime) -> dict[str, object]:
    """The timer that ends an accepted call-out a day after its acceptance."""
    return timer_row(
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        kind=TimerKind.CONTACT_LOG,
        due_at=accepted_at + CALL_OUT_LASTS,
    )


async def invitation(
    session: AsyncSession, assignment: AssignmentRow, *, ended_at: datetime, by_timer: bool = False
) -> ContactLogInvited | None:
    """The invitation for an accepted assignment ending at `ended_at`; None when it was never
    accepted, or its specialist was already asked because the day had passed (`by_timer`: the
    day's timer is the one asking now, and it has just been marked fired)."""
    row = (await session.execute(_ACCEPTED, {"assignment_id": assignment.id})).one_or_none()
    if row is None or row.responded_at is None or (row.asked_at is not None and not by_timer):
        return None
    return ContactLogInvited(
        occurred_at=ended_at,
        assignment_id=assignment.id,
        incident_id=assignment.incident_id,
        agency=assignment.agency,
        member_id=assignment.member_id,
        phone=assignment.phone,
        accepted_at=row.responded_at,
        ended_at=ended_at,
        overtime_eligible=row.overtime_eligible,
    )
