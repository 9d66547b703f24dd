"""Consumers remember which events they have handled, so a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, DateTime, String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import ReturningInsert

from shared.db.array_inserts import array_of
from shared.db.base import Base


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


_PROCESSED_EVENTS = cast(Table, ProcessedEvent.__table__)


def claim_statement(*, only_if: ColumnElement[bool] | None = None) -> ReturningInsert[tuple[str]]:
    """The INSERT that claims an event (parameters: `claim_parameters`): it returns the event's
    id when this transaction is the first to claim it, and no row otherwise; with `only_if`,
    it claims nothing unless that holds. For callers that claim within a larger statement, as a
    CTE; `claim_event` runs `CLAIM` alone.

    Core and built once: an ORM-enabled INSERT … RETURNING, built anew, costs several times the
    CPU, and every event of every consumer runs this.
    """
    claimed = select(
        bindparam("claim_consumer", type_=_PROCESSED_EVENTS.c.consumer.type),
        bindparam("claim_event_id", type_=_PROCESSED_EVENTS.c.event_id.type),
    )
    if only_if is not None:
        claimed = claimed.where(only_if)
    return (
        insert(_PROCESSED_EVENTS)
        .from_select(["consumer", "event_id"], claimed, include_defaults=False)
        .on_conflict_do_nothing()
        .returning(_PROCESSED_EVENTS.c.event_id)
    )


CLAIM = claim_statement()


def claim_parameters(*, consumer: str, event_id: str) -> dict[str, str]:
    return {"claim_consumer": consumer, "claim_event_id": event_id}


async def claim_event(session: AsyncSession, *, consumer: str, event_id: str) -> bool:
    """Record that `consumer` handles `event_id` in this transaction; False if it already did.

    The primary key makes this exactly-once across processes: the second transaction to claim
    an event inserts nothing and must skip the work.
    """
    result = await session.execute(CLAIM, claim_parameters(consumer=consumer, event_id=event_id))
    return result.scalar_one_or_none() is not None


def claim_many_statement() -> ReturningInsert[tuple[str]]:
    """The INSERT that claims several events of one consumer at once (parameters:
    `claim_many_parameters`): it returns the ids this transaction is the first to claim, the
    others (handled before, or twice in the list) return nothing. For a batch handler, alone
    (`CLAIM_MANY`) or as a CTE of a larger statement."""
    ids = (
        func.unnest(bindparam("claim_event_ids", type_=array_of(_PROCESSED_EVENTS.c.event_id.type)))
        .table_valued("event_id")
        .render_derived()
    )
    claimed = select(
        bindparam("claim_consumer", type_=_PROCESSED_EVENTS.c.consumer.type), ids.c.event_id
    )
    return (
        insert(_PROCESSED_EVENTS)
        .from_select(["consumer", "event_id"], claimed, include_defaults=False)
        .on_conflict_do_nothing()
        .returning(_PROCESSED_EVENTS.c.event_id)
    )


CLAIM_MANY = claim_many_statement()


def claim_many_parameters(*, consumer: str, event_ids: Sequence[str]) -> dict[str, Any]:
    return {"claim_consumer": consumer, "claim_event_ids": list(event_ids)}


async def claim_events(
    session: AsyncSession, *, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """Record that `consumer` handles `event_ids` in this transaction; the ids it had not
    handled before (each once, however often it appears in `event_ids`)."""
    result = await session.execute(
        CLAIM_MANY, claim_many_parameters(consumer=consumer, event_ids=event_ids)
    )
    return {str(event_id) for event_id in result.scalars()}
