"""How the consumer runner cuts one partition's records into runs for the batch handler."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord

from shared.clock import ManualClock
from shared.events import AnyEvent
from shared.kafka.consumer_runner import MAX_RUN, ConsumerRunner
from shared.kafka.topics import Topics
from tests.harness.approvals import approval


def _record(offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="t",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=(),
    )


def _approval(member: str) -> bytes:
    return approval(uuid.UUID(int=1), member).model_dump_json().encode()


async def _nothing(*_: Any) -> None:
    return None


def _runner(*, batches: bool) -> ConsumerRunner:
    async def handle_batch(_: list[AnyEvent]) -> None:
        return None

    return ConsumerRunner(
        name="test",
        consumer_factory=lambda: None,
        subscribe_to=[],
        handle=_nothing,
        handle_batch=handle_batch if batches else None,
        sessions=None,  # type: ignore[arg-type]
        topics=Topics(),
        clock=ManualClock(datetime(2026, 11, 21, tzinfo=UTC)),
    )


def _offsets(
    runs: list[list[tuple[ConsumerRecord[bytes, bytes], AnyEvent | None]]],
) -> list[list[int]]:
    return [[record.offset for record, _ in run] for run in runs]


def test_a_malformed_record_stands_alone_between_runs() -> None:
    records = [_record(0, _approval("A")), _record(1, _approval("B")), _record(2, b"{not json")]
    records += [_record(3, _approval("C"))]
    runs = _runner(batches=True)._runs(records)
    assert _offsets(runs) == [[0, 1], [2], [3]]
    assert runs[1][0][1] is None, "left for the one-at-a-time path to dead-letter"


def test_runs_are_cut_at_the_longest_a_batch_may_be() -> None:
    records = [_record(n, _approval(f"M{n}")) for n in range(MAX_RUN + 3)]
    runs = _runner(batches=True)._runs(records)
    assert [len(run) for run in runs] == [MAX_RUN, 3]
    assert [offset for run in _offsets(runs) for offset in run] == list(range(MAX_RUN + 3))


def test_without_a_batch_handler_every_record_is_its_own_run() -> None:
    records = [_record(n, _approval(f"M{n}")) for n in range(3)]
    assert _offsets(_runner(batches=False)._runs(records)) == [[0], [1], [2]]
