"""Confirming a roster phone (issue 14): a new or changed number gets a code by SMS (the
notifier sends it) and is not paged until the code comes back from that number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import PhoneConfirmationRequested
from shared.kafka.topics import Topics
from shared.outbox.rows import write_events
from shared.roster.models import RosterEntry

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]


async def request_confirmation(
    session: AsyncSession, topics: Topics, *, agency: str, member_id: str, phone: str, now: datetime
) -> None:
    """Mark the number unconfirmed and ask the notifier to text it a code (via the outbox)."""
    await session.execute(
        update(ENTRIES)
        .where(ENTRIES.c.agency == agency, ENTRIES.c.member_id == member_id)
        .values(phone_verified_at=None)
    )
    await write_events(
        session,
        topics,
        PhoneConfirmationRequested(
            occurred_at=now, agency=agency, member_id=member_id, phone=phone
        ),
    )


async def mark_confirmed(
    session: AsyncSession, *, agency: str, member_id: str, phone: str, now: datetime
) -> bool:
    """The code came back from `phone`: the member's number is confirmed, if it is still the
    number on the roster (a number changed meanwhile stays unconfirmed)."""
    result = await session.execute(
        update(ENTRIES)
        .where(
            ENTRIES.c.agency == agency,
            ENTRIES.c.member_id == member_id,
            ENTRIES.c.phone == phone,
        )
        .values(phone_verified_at=now)
        .returning(ENTRIES.c.member_id)
    )
    return result.scalar_one_or_none() is not None
