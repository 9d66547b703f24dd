"""Writing an event to the outbox, inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Event, encode_event, event_key, topic_for
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage

WRITTEN_FLAG = "pst_outbox_written"


async def enqueue(session: AsyncSession, topics: Topics, *events: Event) -> None:
    """Add the events to the outbox; they are published only if the transaction commits.

    The connection is flagged so that its commit wakes this process's relay at once (see
    `OutboxRelay`); relays in other processes find the rows at their next poll. (A NOTIFY would
    wake them all, but PostgreSQL serialises the commits of notifying transactions.)
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
        connection = await session.connection()
        connection.info[WRITTEN_FLAG] = True
