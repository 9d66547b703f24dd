"""Events into the outbox in one statement, whatever their number: the rows
that `shared.outbox.enqueue.outbox_row` lays out, inserted by `OUTBOX_INSERT` alone or as a CTE
of a larger statement. Like `enqueue` (whose ORM objects cost a flush each) they are published
only if the transaction commits, and the caller flags the outbox so that the commit wakes this
process's relay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.array_inserts import array_insert, array_parameters
from shared.events import Event
from shared.kafka.topics import Topics
from shared.outbox.enqueue import flag_outbox_written, outbox_row
from shared.outbox.models import OutboxMessage

OUTBOX = cast(Table, OutboxMessage.__table__)

_COLUMNS = ("topic", "key", "event_type", "payload")

OUTBOX_INSERT = array_insert(OUTBOX, _COLUMNS, prefix="outbox")
"""Inserts the events of `outbox_parameters`, in their order."""


def outbox_insert_from(rows: Select[Any]) -> Insert:
    """INSERT into the outbox the rows of `rows`, whose columns are the topic, the key, the
    event type and the payload (JSONB): for a statement that writes the events of rows it
    writes itself, as one of its CTEs."""
    return insert(OUTBOX).from_select(list(_COLUMNS), rows)


def outbox_parameters(topics: Topics, events: Sequence[Event]) -> dict[str, list[Any]]:
    return array_parameters(
        [outbox_row(topics, event) for event in events], _COLUMNS, prefix="outbox"
    )


async def write_events(session: AsyncSession, topics: Topics, *events: Event) -> None:
    """Add the events to the outbox in one statement, and flag it written."""
    if not events:
        return
    await session.execute(OUTBOX_INSERT, outbox_parameters(topics, events))
    await flag_outbox_written(session)
