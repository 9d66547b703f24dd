"""Writing an event to the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.commit_signals import raise_flag
from shared.events import Event, encode_event, event_key, topic_for
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage

OUTBOX_WRITTEN = "outbox_written"


def outbox_row(topics: Topics, event: Event) -> dict[str, Any]:
    """The outbox columns for `event` (for callers that insert it within a larger statement)."""
    return {
        "topic": topic_for(event, topics),
        "key": event_key(event),
        "event_type": event.event_type,
        "payload": encode_event(event),
    }


async def enqueue(session: AsyncSession, topics: Topics, *events: Event) -> None:
    """Add the events to the outbox; they are published only if the transaction commits."""
    for event in events:
        session.add(OutboxMessage(**outbox_row(topics, event)))
    if events:
        await flag_outbox_written(session)


async def flag_outbox_written(session: AsyncSession) -> None:
    """The transaction's commit wakes this process's relay at once (`shared.db.commit_signals`);
    relays in other processes find the rows at their next poll."""
    await raise_flag(session, OUTBOX_WRITTEN)
