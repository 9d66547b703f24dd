"""The consumer runner's batch path: runs of one partition's events go to the batch handler;
a run it cannot handle is handled one event at a time; a malformed record is dead-lettered
alone; nothing is handled twice or out of order."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import TopicPartition
from sqlalchemy import func, select

from shared.clock import ManualClock
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import DeadLetter
from shared.events import AnyEvent, ApprovalRecorded
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.consumer_runner import ConsumerRunner
from shared.kafka.topics import Topics
from shared.processed_events import claim_event, claim_events
from shared.settings import Settings
from tests.harness.approvals import approval
from tests.harness.waiting import eventually


async def test_claiming_many_events_returns_each_new_one_once(settings: Settings) -> None:
    engine = build_engine(settings.require_database_url())
    sessions = build_session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            first = await claim_events(session, consumer="c", event_ids=["a", "b", "a"])
            await session.commit()
        async with unit_of_work(sessions) as session:
            second = await claim_events(session, consumer="c", event_ids=["b", "c"])
            other = await claim_events(session, consumer="other", event_ids=["b"])
            await session.commit()
        assert first == {"a", "b"}
        assert second == {"c"}
        assert other == {"b"}, "each consumer claims for itself"
    finally:
        await engine.dispose()


async def test_runs_go_to_the_batch_handler_and_a_failed_run_one_event_at_a_time(
    settings: Settings, clock: ManualClock
) -> None:
    engine = build_engine(settings.require_database_url())
    sessions = build_session_factory(engine)
    topics = Topics(settings.kafka_topic_prefix)
    bootstrap = settings.require_kafka_bootstrap()
    incident = uuid.uuid4()
    members = [f"K{i}" for i in range(8)]
    events = {member: approval(incident, member) for member in members}

    producer = build_producer(bootstrap, client_id="batches")
    await producer.start()
    try:
        for member in members:
            if member == "K4":  # a malformed record between two runs
                await producer.send(topics.incidents, b"{not json", key=str(incident).encode())
            await producer.send(
                topics.incidents,
                events[member].model_dump_json().encode(),
                key=str(incident).encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()

    handled: list[str] = []
    batches: list[list[str]] = []
    one_at_a_time: list[str] = []

    async def handle(event: AnyEvent) -> None:
        assert isinstance(event, ApprovalRecorded)
        async with unit_of_work(sessions) as session:
            if await claim_event(session, consumer="test", event_id=str(event.event_id)):
                handled.append(event.member_id)
                one_at_a_time.append(event.member_id)
            await session.commit()

    async def handle_batch(batch: list[AnyEvent]) -> None:
        approvals = [event for event in batch if isinstance(event, ApprovalRecorded)]
        async with unit_of_work(sessions) as session:
            new = await claim_events(
                session, consumer="test", event_ids=[str(e.event_id) for e in approvals]
            )
            if any(event.member_id == "K6" for event in approvals):
                raise ValueError("K6 cannot be handled in a batch")  # rolled back, claims too
            await session.commit()
        handled.extend(e.member_id for e in approvals if str(e.event_id) in new)
        batches.append([e.member_id for e in approvals])

    stop = asyncio.Event()
    group = f"g{uuid.uuid4().hex}"
    runner = ConsumerRunner(
        name="test",
        consumer_factory=lambda: build_consumer(bootstrap, group_id=group, client_id="test"),
        subscribe_to=[topics.incidents],
        handle=handle,
        handle_batch=handle_batch,
        sessions=sessions,
        topics=topics,
        clock=clock,
    )
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: len(handled) >= len(members), what="every event handled")

        async def dead_letters() -> int | None:
            async with unit_of_work(sessions) as session:
                return await session.scalar(select(func.count()).select_from(DeadLetter))

        await eventually(dead_letters, what="the malformed record dead-lettered")
    finally:
        stop.set()
        await task
        await engine.dispose()

    assert handled == members, "each event once, in the partition's order"
    assert (
        await _committed(bootstrap, group, topics.prefix, topics.incidents) == len(members) + 1
    ), "on stop, the progress still pending is committed"
    assert any(len(batch) >= 2 for batch in batches), "the runs went to the batch handler"
    assert "K6" in one_at_a_time, "the run the batch handler refused was handled one by one"
    assert not any("K6" in batch for batch in batches)


async def _committed(bootstrap: str, group: str, prefix: str, topic: str) -> int:
    """The group's committed offsets on `topic`, summed over its partitions."""
    consumer = build_consumer(bootstrap, group_id=group, client_id="check")
    await consumer.start()
    try:
        partitions = next(spec.partitions for spec in Topics(prefix).specs() if spec.name == topic)
        total = 0
        for partition in range(partitions):
            total += await consumer.committed(TopicPartition(topic, partition)) or 0
        return total
    finally:
        await consumer.stop()
