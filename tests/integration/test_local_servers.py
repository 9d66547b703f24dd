"""The session's PostgreSQL and Kafka are the real servers, reachable the way services use them."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka.structs import ConsumerRecord
from alembic.script import ScriptDirectory
from sqlalchemy import text

from shared.db.engine import build_engine
from shared.db.migrate import alembic_config
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.topics import Topics


async def test_each_test_database_is_migrated_to_head(database_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    engine = build_engine(database_url)
    try:
        async with engine.connect() as connection:
            version = (await connection.execute(text("SELECT version()"))).scalar_one()
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
    finally:
        await engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert current == head


async def test_test_databases_are_separate(database_url: str, servers: object) -> None:
    engine = build_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO outbox_messages (topic, key, event_type, payload) "
                    "VALUES ('x', 'k', 'test', '{}')"
                )
            )
    finally:
        await engine.dispose()
    other_name = await servers.fresh_database()  # type: ignore[attr-defined]
    other = build_engine(servers.postgres.url(other_name))  # type: ignore[attr-defined]
    try:
        async with other.connect() as connection:
            count = (
                await connection.execute(text("SELECT count(*) FROM outbox_messages"))
            ).scalar_one()
    finally:
        await other.dispose()
        await servers.drop_database(other_name)  # type: ignore[attr-defined]
    assert count == 0


async def test_idempotent_producer_and_manual_commit_consumer(
    servers: object, topics: Topics
) -> None:
    bootstrap = servers.kafka.bootstrap  # type: ignore[attr-defined]
    producer = build_producer(bootstrap, client_id="test")
    await producer.start()
    try:
        payload = uuid.uuid4().bytes
        await producer.send_and_wait(topics.incidents, payload, key=b"incident-1")
    finally:
        await producer.stop()

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = build_consumer(bootstrap, topics.incidents, group_id=group, client_id="test")
    await consumer.start()
    try:
        received: list[ConsumerRecord[bytes, bytes]] = []
        async with asyncio.timeout(20):
            while not received:
                batches = await consumer.getmany(timeout_ms=500)
                received = [r for records in batches.values() for r in records]
        await consumer.commit()
    finally:
        await consumer.stop()
    assert [r.value for r in received] == [payload]
    assert received[0].key == b"incident-1"

    again = build_consumer(bootstrap, topics.incidents, group_id=group, client_id="test")
    await again.start()
    try:
        batches = await again.getmany(timeout_ms=1500)
    finally:
        await again.stop()
    assert not any(batches.values()), "a committed record must not be delivered again"


async def test_a_new_wal_segment_is_not_zero_filled_inside_a_commit(database_url: str) -> None:
    """The local PostgreSQL (the tests' and `pst up`'s) creates WAL segments empty: zero-filling
    16 MB inside a commit stalled every commit for 300-400 ms each 16 MB of WAL."""
    engine = build_engine(database_url)
    try:
        async with engine.connect() as connection:
            setting = (await connection.execute(text("SHOW wal_init_zero"))).scalar_one()
    finally:
        await engine.dispose()
    assert setting == "off"
