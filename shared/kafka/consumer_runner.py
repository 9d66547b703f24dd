"""Running a Kafka consumer at least once: commit only after the handler's transaction.

Partitions are handled side by side, each in order. The handler owns one database transaction
per event and records the event's id in it, so a redelivery after a crash changes nothing.
A consumer may also give a batch handler, for the runs of consecutive events a fetch brings
from one partition (a burst): it does what the handler would do for each in turn, in fewer
statements and transactions; when it fails for any other reason than a transient one, the run
is handled one event at a time, so one bad event is dead-lettered alone. Transient failures
(the database or broker away) are retried in place without committing; an event that cannot be
handled (it does not parse, or it keeps failing) is dead-lettered, so an activation is never
dropped silently, and consumption moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import record_dead_letter
from shared.events import AnyEvent, parse_event
from shared.kafka.topics import Topics
from shared.transient_failures import is_transient

log = logging.getLogger(__name__)

Handler = Callable[[AnyEvent], Awaitable[None]]
BatchHandler = Callable[[list[AnyEvent]], Awaitable[None]]

ATTEMPTS_BEFORE_DEAD_LETTER = 5
COMMIT_INTERVAL_S = 0.2
"""While events keep coming, their progress is committed to Kafka at most this often."""
MAX_RUN = 50
"""At most this many events go to the batch handler at once: its effects are committed (and
the next services see them) only when the whole run is done."""


class PermanentEventError(Exception):
    """The event can never be handled as it is: dead-letter it."""


@dataclass
class ConsumerRunner:
    name: str
    consumer_factory: Callable[[], AIOKafkaConsumer]
    subscribe_to: list[str]
    handle: Handler
    sessions: SessionFactory
    topics: Topics
    clock: Clock
    max_backoff_s: float = 10.0
    handle_batch: BatchHandler | None = None
    """Handles two or more consecutive events of one partition with the same effects as
    `handle` on each in order, idempotent per event like it (a redelivery changes nothing)."""

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            consumer = self.consumer_factory()
            pending = PendingOffsets(consumer, self.name)
            consumer.subscribe(self.subscribe_to, listener=CommitOnRevoke(self.name, pending))
            try:
                await consumer.start()
                await self._consume(consumer, pending, stop)
            except KafkaError as error:
                log.warning(
                    "consumer lost the broker; reconnecting",
                    extra={"consumer": self.name, "error": repr(error)},
                )
                await _sleep_unless(stop, 1.0)
            finally:
                await pending.commit_quietly()  # what was handled need not come again
                try:
                    async with asyncio.timeout(5):
                        await consumer.stop()
                except Exception as error:  # never wedge shutdown on a dead broker
                    log.warning("consumer did not stop cleanly", extra={"error": repr(error)})

    async def _consume(
        self, consumer: AIOKafkaConsumer, pending: PendingOffsets, stop: asyncio.Event
    ) -> None:
        """Each partition's records in order, the partitions of a batch side by side (one
        incident's events share a partition, so its order holds); then the progress of every
        partition is committed, at most every `COMMIT_INTERVAL_S` while events keep coming and
        at once when they stop."""
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=200)
            if batches:
                progress = await asyncio.gather(
                    *(
                        self._drain(partition, records, stop)
                        for partition, records in batches.items()
                    )
                )
                pending.add(
                    {partition: offset for partition, offset in progress if offset is not None}
                )
            if pending.due(idle=not batches):
                await pending.commit()

    async def _drain(
        self,
        partition: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
        stop: asyncio.Event,
    ) -> tuple[TopicPartition, int | None]:
        """Handle one partition's records in order; the offset to commit, if any was done."""
        done: int | None = None
        for run in self._runs(records):
            if len(run) > 1 and await self._handle_run_until_done(run, stop):
                done = run[-1][0].offset + 1
                continue
            for record, _ in run:
                if not await self._handle_until_done(record, stop):
                    return partition, done
                done = record.offset + 1
        return partition, done

    def _runs(
        self, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[list[tuple[ConsumerRecord[bytes, bytes], AnyEvent | None]]]:
        """The records in order, cut into runs for the batch handler: up to `MAX_RUN`
        consecutive events that parse, each record that does not (for the one-at-a-time path
        to dead-letter) alone."""
        if self.handle_batch is None or len(records) < 2:
            return [[(record, None)] for record in records]
        runs: list[list[tuple[ConsumerRecord[bytes, bytes], AnyEvent | None]]] = [[]]
        for record in records:
            try:
                event: AnyEvent | None = parse_event(record.value or b"")
            except ValidationError:
                event = None
            if event is None:
                runs += [[(record, None)], []]
            elif len(runs[-1]) >= MAX_RUN:
                runs.append([(record, event)])
            else:
                runs[-1].append((record, event))
        return [run for run in runs if run]

    async def _handle_run_until_done(
        self,
        run: list[tuple[ConsumerRecord[bytes, bytes], AnyEvent | None]],
        stop: asyncio.Event,
    ) -> bool:
        """True once the batch handler has handled the run; False when it cannot (the run is
        then handled one event at a time) or the runner is stopping."""
        assert self.handle_batch is not None
        events = [event for _, event in run if event is not None]
        backoff = 0.1
        while not stop.is_set():
            try:
                await self.handle_batch(events)
                return True
            except Exception as error:
                if not is_transient(error):
                    log.info(
                        "batch not handled; handling its events one at a time",
                        extra={"consumer": self.name, "events": len(events), "error": repr(error)},
                    )
                    return False
                log.warning(
                    "batch handler failed; retrying",
                    extra={"consumer": self.name, "error": repr(error)},
                )
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        return False

    async def _handle_until_done(
        self, record: ConsumerRecord[bytes, bytes], stop: asyncio.Event
    ) -> bool:
        """True once the record is handled or dead-lettered; False if stopped first."""
        attempts = 0
        backoff = 0.1
        while not stop.is_set():
            attempts += 1
            try:
                event = parse_event(record.value or b"")
            except ValidationError as error:
                await self._dead_letter(record, f"not a valid event: {error}")
                return True
            try:
                await self.handle(event)
                return True
            except PermanentEventError as error:
                await self._dead_letter(record, str(error))
                return True
            except Exception as error:
                if not is_transient(error) and attempts >= ATTEMPTS_BEFORE_DEAD_LETTER:
                    log.exception("handler keeps failing", extra={"consumer": self.name})
                    await self._dead_letter(record, f"failed {attempts} times: {error!r}")
                    return True
                log.warning(
                    "handler failed; retrying",
                    extra={"consumer": self.name, "error": repr(error), "attempt": attempts},
                )
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        return False

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        backoff = 0.2
        while True:
            try:
                async with unit_of_work(self.sessions) as session:
                    await record_dead_letter(
                        session,
                        self.topics,
                        consumer=self.name,
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        key=record.key.decode(errors="replace") if record.key else None,
                        value=(record.value or b"").decode(errors="replace"),
                        error=error[:4000],
                        at=self.clock.now(),
                    )
                    await session.commit()
                return
            except Exception as failure:
                if not is_transient(failure):
                    raise
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)


class PendingOffsets:
    """Progress already handled (its transactions committed) but not yet committed to Kafka.

    An offset commit is a write to the broker's `__consumer_offsets` log and a round trip: one
    per fetched batch cost the broker and the consumer more than a tenth of their CPU at a
    steady 20 incidents a second, where each batch is an event or two. Committing later never
    loses an event (the work is durable first); a crash before it redelivers the events, which
    the handlers absorb by event id.
    """

    def __init__(self, consumer: AIOKafkaConsumer, name: str) -> None:
        self._consumer = consumer
        self._name = name
        self._offsets: dict[TopicPartition, int] = {}
        self._committed_at = -math.inf

    def add(self, offsets: dict[TopicPartition, int]) -> None:
        self._offsets.update(offsets)

    def due(self, *, idle: bool) -> bool:
        """Whether to commit now: when nothing more came, or `COMMIT_INTERVAL_S` after the last."""
        if not self._offsets:
            return False
        return idle or time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S

    async def commit(self) -> None:
        offsets, self._offsets = self._offsets, {}
        if offsets:
            self._committed_at = time.monotonic()
            await self._consumer.commit(offsets)

    async def commit_quietly(self) -> None:
        """Commit what is pending, if the broker lets us; on stop and on a rebalance."""
        try:
            async with asyncio.timeout(5):
                await self.commit()
        except Exception as error:  # redelivered instead, which changes nothing
            log.warning(
                "pending offsets not committed; their events will come again",
                extra={"consumer": self._name, "error": repr(error)},
            )


class CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits the pending progress before partitions go to another consumer, and logs."""

    def __init__(self, name: str, pending: PendingOffsets) -> None:
        self._name = name
        self._pending = pending

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked", extra={"consumer": self._name, "count": len(revoked)})
        await self._pending.commit_quietly()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("partitions assigned", extra={"consumer": self._name, "count": len(assigned)})


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
