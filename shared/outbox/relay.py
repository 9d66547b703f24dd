"""The outbox relay: publishes committed outbox rows to Kafka and marks them sent.

Every service process runs one. Rows are claimed with `FOR UPDATE SKIP LOCKED` on the status
column (never by "id greater than the last one seen": sequence values commit out of order), so
relays in several processes share the work and a row is published by one of them at a time.
This process's commits that wrote to the outbox wake its relay at once; rows written elsewhere
are found at the next poll. A row is marked sent only after Kafka acknowledged it (idempotent
producer, acks=all); a crash in between publishes it again, which consumers absorb by event id.
With the broker down, rows stay pending and are published when it returns; a producer that
failed is closed and built anew.

Sent rows are kept for `keep_sent_for` (a week), then deleted by a task of their own every
`purge_interval_s`, in chunks of the oldest first: publishing never waits behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import Clock
from shared.db.commit_signals import CommitSignal
from shared.outbox.enqueue import OUTBOX_WRITTEN
from shared.outbox.models import PENDING, SENT, OutboxMessage

log = logging.getLogger(__name__)

PUBLISHED = Counter("pst_outbox_published_total", "Outbox rows published to Kafka", ["service"])
FAILURES = Counter("pst_outbox_publish_failures_total", "Failed outbox batches", ["service"])
BACKLOG = Gauge("pst_outbox_backlog", "Pending outbox rows seen by the last poll", ["service"])

ProducerFactory = Callable[[], AIOKafkaProducer]


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        producer_factory: ProducerFactory,
        clock: Clock,
        batch_size: int = 500,
        send_timeout_s: float = 10.0,
        poll_interval_s: float = 0.5,
        keep_sent_for: timedelta = timedelta(days=7),
        purge_interval_s: float = 600.0,
    ) -> None:
        self._service = service
        self._engine = engine
        self._producer_factory = producer_factory
        self._clock = clock
        self._batch_size = batch_size
        self._send_timeout_s = send_timeout_s
        self._poll_interval_s = poll_interval_s
        self._keep_sent_for = keep_sent_for
        self._purge_interval_s = purge_interval_s
        self._producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; failures are logged and retried with backoff."""
        backoff = self._poll_interval_s
        written = CommitSignal(self._engine, OUTBOX_WRITTEN)
        purging = asyncio.create_task(self._purge_every_while(stop))
        try:
            while not stop.is_set():
                try:
                    published = await self.publish_pending()
                    backoff = self._poll_interval_s
                except Exception as error:  # the relay must outlive any outage
                    FAILURES.labels(self._service).inc()
                    log.warning("outbox publish failed; will retry", extra={"error": repr(error)})
                    await self._drop_producer()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if published < self._batch_size:
                    await written.wait(stop, self._poll_interval_s)
        finally:
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging
            written.close()
            await self._drop_producer()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published.

        One statement claims the batch and marks it sent; its transaction commits only after
        Kafka acknowledged every row, so a failure or a crash in between leaves them pending.
        The payload is read as JSON text and published as it is, never decoded and re-encoded.
        """
        async with self._engine.connect() as connection, connection.begin():
            claimed = (
                select(OutboxMessage.id)
                .where(OutboxMessage.status == PENDING)
                .order_by(OutboxMessage.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            rows = sorted(
                (
                    await connection.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(claimed))
                        .values(
                            status=SENT,
                            sent_at=self._clock.now(),
                            attempts=OutboxMessage.attempts + 1,
                        )
                        .returning(
                            OutboxMessage.id,
                            OutboxMessage.topic,
                            OutboxMessage.key,
                            OutboxMessage.event_type,
                            cast(OutboxMessage.payload, Text),
                        )
                    )
                ).all()
            )
            BACKLOG.labels(self._service).set(len(rows))
            if not rows:
                return 0
            producer = await self._ready_producer()
            async with asyncio.timeout(self._send_timeout_s):
                deliveries = [
                    await producer.send(
                        topic,
                        value=payload.encode(),
                        key=key.encode(),
                        headers=[("event_type", event_type.encode())],
                    )
                    for _, topic, key, event_type, payload in rows
                ]
                await asyncio.gather(*deliveries)
        PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def _ready_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                async with asyncio.timeout(self._send_timeout_s):
                    await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                async with asyncio.timeout(5):
                    await producer.stop()
            except Exception as error:  # a wedged producer is abandoned, not awaited forever
                log.warning("could not stop the Kafka producer", extra={"error": repr(error)})

    async def _purge_every_while(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.purge_sent()
            except Exception as error:  # the database away: next time
                log.warning("purging sent outbox rows failed", extra={"error": repr(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._purge_interval_s)

    async def purge_sent(self, chunk: int = 5_000) -> int:
        """Delete the rows sent more than `keep_sent_for` ago, oldest first, `chunk` rows per
        statement (each its own short transaction); returns how many went."""
        cutoff = self._clock.now() - self._keep_sent_for
        oldest = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff)
            .order_by(OutboxMessage.id)
            .limit(chunk)
            .scalar_subquery()
        )
        purged = 0
        while True:
            async with self._engine.begin() as connection:
                deleted = (
                    await connection.execute(
                        delete(OutboxMessage).where(OutboxMessage.id.in_(oldest))
                    )
                ).rowcount
            purged += deleted
            if deleted < chunk:
                return purged
