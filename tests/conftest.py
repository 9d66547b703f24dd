"""Fixtures shared by every layer of tests.

Unit tests use none of the servers. Integration and end-to-end tests ask for `settings` (or
`servers`), which starts one real PostgreSQL and one real Kafka for the whole session and gives
each test its own database and topics. The few tests that need a replicated Kafka ask for
`kafka_cluster` (three brokers, started once, only when a test asks for it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from shared.clock import ManualClock
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics
from shared.settings import Settings
from tests.harness.servers import SessionKafkaCluster, SessionServers


@pytest.fixture(scope="session", autouse=True)
def _no_pst_settings_from_the_environment() -> Iterator[None]:
    """A developer's own PST_* variables must not change what the tests see."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("PST_")}
    for key in saved:
        del os.environ[key]
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def servers() -> Iterator[SessionServers]:
    started = SessionServers.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[SessionKafkaCluster]:
    """A three-broker KRaft cluster for the session; the tests that use it leave it whole."""
    started = SessionKafkaCluster.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
async def database_url(servers: SessionServers) -> AsyncIterator[str]:
    name = await servers.fresh_database()
    yield servers.postgres.url(name)
    await servers.drop_database(name)


@pytest.fixture
async def topics(servers: SessionServers) -> Topics:
    created = Topics(prefix=f"t{uuid.uuid4().hex[:10]}.")
    await ensure_topics(servers.kafka.bootstrap, created.specs())
    return created


@pytest.fixture
def clock() -> ManualClock:
    """46 minutes after the shared examples' incidents (2026-11-20T22:14-06:00)."""
    return ManualClock(datetime(2026, 11, 21, 5, 0, tzinfo=UTC))


@pytest.fixture
def settings(
    servers: SessionServers,
    database_url: str,
    topics: Topics,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=servers.kafka.bootstrap,
        kafka_topic_prefix=topics.prefix,
        state_dir=tmp_path_factory.mktemp("state"),
        sms_ack_timeout_s=120,
        call_ack_timeout_s=180,
    )
