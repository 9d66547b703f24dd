"""Writing an event to the outbox, inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Event, encode_event, event_key, topic_for
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage

NOTIFY_CHANNEL = "pst_outbox"


async def enqueue(session: AsyncSession, topics: Topics, *events: Event) -> None:
    """Add the events to the outbox; they are published only if the transaction commits.

    The NOTIFY is delivered at commit too, and wakes the relays at once instead of at their
    next poll.
    """
    for event in events:
        session.add(
            OutboxMessage(
                topic=topic_for(event, topics),
                key=event_key(event),
                event_type=event.event_type,
                payload=encode_event(event),
            )
        )
    if events:
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
