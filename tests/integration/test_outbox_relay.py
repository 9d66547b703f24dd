"""The outbox relay publishes committed events, once marked sent, and survives a broker outage;
the consumer runner hands each event to its handler and dead-letters what cannot be handled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from shared.clock import ManualClock
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import DeadLetter
from shared.events import AnyEvent, ApprovalRecorded
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.consumer_runner import ConsumerRunner
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue
from shared.outbox.models import PENDING, SENT, OutboxMessage
from shared.outbox.relay import OutboxRelay
from shared.processed_events import claim_event
from shared.settings import Settings
from tests.harness.approvals import approval
from tests.harness.waiting import eventually


async def test_relay_publishes_and_consumer_handles_each_event_once(
    settings: Settings, clock: ManualClock
) -> None:
    engine = build_engine(settings.require_database_url())
    sessions = build_session_factory(engine)
    topics = Topics(settings.kafka_topic_prefix)
    bootstrap = settings.require_kafka_bootstrap()
    incident = uuid.uuid4()
    events = [approval(incident, f"K{i}") for i in range(5)]
    async with unit_of_work(sessions) as session:
        await enqueue(session, topics, *events)
        await session.commit()

    relay = OutboxRelay(
        service="test",
        engine=engine,
        producer_factory=lambda: build_producer(bootstrap, client_id="relay"),
        clock=clock,
    )
    try:
        assert await relay.publish_pending() == 5
        assert await relay.publish_pending() == 0
    finally:
        await relay._drop_producer()

    seen: list[AnyEvent] = []

    async def handle(event: AnyEvent) -> None:
        async with unit_of_work(sessions) as session:
            if await claim_event(session, consumer="test", event_id=str(event.event_id)):
                seen.append(event)
            await session.commit()

    # a malformed record beside the good ones is dead-lettered, not dropped, not fatal
    producer = build_producer(bootstrap, client_id="garbage")
    await producer.start()
    await producer.send_and_wait(topics.incidents, b"{not json", key=str(incident).encode())
    await producer.stop()

    stop = asyncio.Event()
    runner = ConsumerRunner(
        name="test",
        consumer_factory=lambda: build_consumer(
            bootstrap, group_id=f"g{uuid.uuid4().hex}", client_id="test"
        ),
        subscribe_to=[topics.incidents],
        handle=handle,
        sessions=sessions,
        topics=topics,
        clock=clock,
    )
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: len(seen) >= 5, what="five events handled")

        async def dead_letters() -> int | None:
            async with unit_of_work(sessions) as session:
                return await session.scalar(select(func.count()).select_from(DeadLetter))

        await eventually(dead_letters, what="the malformed record dead-lettered")
    finally:
        stop.set()
        await task

    assert [e.member_id for e in seen if isinstance(e, ApprovalRecorded)] == [
        f"K{i}" for i in range(5)
    ], "one incident's events arrive in order"
    async with unit_of_work(sessions) as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
        dead_value = (await session.scalars(select(DeadLetter.value))).one()
    assert statuses.count(SENT) == 5
    assert statuses.count(PENDING) == 1, "the dead letter waits in the outbox for its topic"
    assert dead_value == "{not json"
    await engine.dispose()


async def test_reports_wait_in_the_outbox_while_the_broker_is_unreachable(
    settings: Settings, clock: ManualClock
) -> None:
    engine = build_engine(settings.require_database_url())
    sessions = build_session_factory(engine)
    topics = Topics(settings.kafka_topic_prefix)
    async with unit_of_work(sessions) as session:
        await enqueue(session, topics, approval(uuid.uuid4(), "K1"))
        await session.commit()
    relay = OutboxRelay(
        service="test",
        engine=engine,
        producer_factory=lambda: build_producer("127.0.0.1:9", client_id="relay"),
        clock=clock,
        send_timeout_s=1.0,
    )
    failed = False
    try:
        await relay.publish_pending()
    except Exception:
        failed = True
    finally:
        await relay._drop_producer()
    assert failed
    async with unit_of_work(sessions) as session:
        assert (await session.scalars(select(OutboxMessage.status))).all() == [PENDING]
    await engine.dispose()


async def test_sent_rows_are_purged_after_a_week_and_pending_ones_never(
    settings: Settings, clock: ManualClock
) -> None:
    engine = build_engine(settings.require_database_url())
    sessions = build_session_factory(engine)
    topics = Topics(settings.kafka_topic_prefix)
    now = clock.now()
    ages = {"old": timedelta(days=8), "older": timedelta(days=9), "recent": timedelta(days=1)}
    async with unit_of_work(sessions) as session:
        for name, age in ages.items():
            session.add(
                OutboxMessage(
                    topic=topics.incidents,
                    key=name,
                    event_type="test",
                    payload={},
                    status=SENT,
                    sent_at=now - age,
                )
            )
        session.add(
            OutboxMessage(topic=topics.incidents, key="pending", event_type="test", payload={})
        )
        await session.commit()
    relay = OutboxRelay(
        service="test",
        engine=engine,
        producer_factory=lambda: build_producer(
            settings.require_kafka_bootstrap(), client_id="purge"
        ),
        clock=clock,
    )
    try:
        assert await relay.purge_sent(chunk=1) == 2, "in chunks, until none is left"
        async with unit_of_work(sessions) as session:
            kept = sorted((await session.scalars(select(OutboxMessage.key))).all())
        assert kept == ["pending", "recent"]
    finally:
        await engine.dispose()
