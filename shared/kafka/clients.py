"""Kafka clients configured for at-least-once delivery (aiokafka's defaults are at-most-once).

Producers are idempotent (hence acks=all); consumers never auto-commit and start from the
earliest offset, and the caller commits only after its database transaction has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.kafka.topics import TopicSpec

log = logging.getLogger(__name__)


def build_producer(bootstrap: str, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=10_000,
        retry_backoff_ms=100,
    )


def build_consumer(bootstrap: str, *topics: str, group_id: str, client_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_wait_ms=20,
        max_poll_records=100,
        max_poll_interval_ms=300_000,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


async def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], *, timeout_s: float = 60
) -> None:
    """Create the topics that do not exist yet; retries while the broker is still starting."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    wanted = list(specs)
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [s for s in wanted if s.name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(s.name, s.partitions, 1) for s in missing])
            existing = set(await admin.list_topics())
            if all(s.name in existing for s in wanted):
                return
        except KafkaError as error:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"could not create Kafka topics: {error!r}") from error
            log.info("waiting for Kafka to create topics", extra={"error": repr(error)})
        finally:
            await admin.close()
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("Kafka topics were not all created in time")
        await asyncio.sleep(0.5)
