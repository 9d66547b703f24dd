"""Confirming a roster phone (issue 14): a new or changed number gets a code by SMS (the
notifier sends it) and is not paged until the code comes back from that number."""

from __future__ import annotations

from collections.abc import Mapping
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
    await request_confirmations(session, topics, agency=agency, phones={member_id: phone}, now=now)


async def request_confirmations(
    session: AsyncSession,
    topics: Topics,
    *,
    agency: str,
    phones: Mapping[str, str],
    now: datetime,
) -> None:
    """`request_confirmation` for many members (member id → phone) in two statements."""
    if not phones:
        return
    await session.execute(
        update(ENTRIES)
        .where(ENTRIES.c.agency == agency, ENTRIES.c.member_id.in_(list(phones)))
        .values(phone_verified_at=None)
    )
    await write_events(
        session,
        topics,
        *(
            PhoneConfirmationRequested(
                occurred_at=now, agency=agency, member_id=member_id, phone=phone
            )
            for member_id, phone in phones.items()
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
