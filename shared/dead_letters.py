"""Events no consumer could handle: kept in a table and on the dead-letter topic, and loud."""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "pst_dead_letters_total", "Events that could not be handled", ["consumer", "topic"]
)


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


async def record_dead_letter(
    session: AsyncSession,
    topics: Topics,
    *,
    consumer: str,
    topic: str,
    partition: int,
    offset: int,
    key: str | None,
    value: str,
    error: str,
    at: datetime,
) -> None:
    """Keep the event for a person, and forward it to the dead-letter topic via the outbox."""
    session.add(
        DeadLetter(
            consumer=consumer,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            value=value,
            error=error,
            created_at=at,
        )
    )
    session.add(
        OutboxMessage(
            topic=topics.dead_letter,
            key=key or f"{topic}/{partition}/{offset}",
            event_type="dead_letter",
            payload={
                "consumer": consumer,
                "topic": topic,
                "partition": partition,
                "offset": offset,
                "value": value,
                "error": error,
            },
        )
    )
    DEAD_LETTERS.labels(consumer, topic).inc()
    log.error(
        "event could not be handled: dead-lettered for a person to look at",
        extra={
            "alert": True,
            "consumer": consumer,
            "topic": topic,
            "offset": offset,
            "error": error,
        },
    )
