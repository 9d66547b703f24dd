"""The reports' share of the console's projection: contacts, overtime call-outs and their hours,
from events, each write idempotent and order-proof by itself (see `console.projector`)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports.models import CONTACTS, OVERTIME
from shared.events import ContactLogged, ContactLogInvited, OvertimeHoursLogged

_CONTACT = insert(CONTACTS).on_conflict_do_nothing(index_elements=[CONTACTS.c.contact_id])
_new_overtime = insert(OVERTIME)
_OVERTIME_CALL_OUT = _new_overtime.on_conflict_do_update(
    index_elements=[OVERTIME.c.assignment_id],
    set_={
        "accepted_at": _new_overtime.excluded.accepted_at,
        "ended_at": _new_overtime.excluded.ended_at,
        "member_id": _new_overtime.excluded.member_id,
    },
)
"""The call-out's times; its hours may have come first (another topic) and stay."""
_OVERTIME_HOURS = _new_overtime.on_conflict_do_update(
    index_elements=[OVERTIME.c.assignment_id],
    set_={"hours": func.coalesce(OVERTIME.c.hours, _new_overtime.excluded.hours)},
)
"""The hours, kept once: the first logged stands."""


async def contact_logged(session: AsyncSession, event: ContactLogged) -> None:
    await session.execute(
        _CONTACT,
        {
            "contact_id": event.contact_id,
            "agency": event.agency,
            "month": event.month,
            "source": event.source,
            "people": event.people,
            "kind": event.kind,
            "referral": event.referral,
            "hours": Decimal(str(event.hours)),
        },
    )


async def call_out_ended(session: AsyncSession, event: ContactLogInvited) -> None:
    """An overtime-eligible call-out ended; others leave no trace here."""
    if not event.overtime_eligible:
        return
    await session.execute(
        _OVERTIME_CALL_OUT,
        {
            "assignment_id": event.assignment_id,
            "agency": event.agency,
            "member_id": event.member_id,
            "accepted_at": event.accepted_at,
            "ended_at": event.ended_at,
            "hours": None,
        },
    )


async def overtime_hours(session: AsyncSession, event: OvertimeHoursLogged) -> None:
    await session.execute(
        _OVERTIME_HOURS,
        {
            "assignment_id": event.assignment_id,
            "agency": event.agency,
            "member_id": "",
            "accepted_at": None,
            "ended_at": None,
            "hours": Decimal(str(event.hours)),
        },
    )
