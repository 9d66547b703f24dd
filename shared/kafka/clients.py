"""Kafka clients configured for at-least-once delivery (aiokafka's defaults are at-most-once).

Producers are idempotent (hence acks=all); consumers never auto-commit and start from the
earliest offset, and the caller commits only after its database transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.kafka.topics import Replication, TopicSpec, replication_for

log = logging.getLogger(__name__)


def build_producer(bootstrap: str, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=0,  # each hop's wait: 2 ms cost 2-3 ms of every hop's p50; a batch still
        # forms from what is queued while a request is in flight (one at a time, idempotent)
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
) -> Replication:
    """Create the topics that do not exist yet, replicated as `replication_for` says for the
    brokers the cluster has now (topics that exist are left as they are); retries while the
    broker is still starting. Returns the replication it used."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    wanted = list(specs)
    refused: list[str] = []
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            replication = replication_for(len(cluster["brokers"]))
            existing = set(await admin.list_topics())
            missing = [s for s in wanted if s.name not in existing]
            if missing:
                response = await admin.create_topics(
                    [
                        NewTopic(
                            s.name,
                            s.partitions,
                            replication.factor,
                            topic_configs=replication.topic_configs(),
                        )
                        for s in missing
                    ]
                )
                refused = [
                    f"{name}: error {code} {message}"
                    for name, code, message in _topic_errors(response)
                    if code not in (0, TopicAlreadyExistsError.errno)
                ]
            existing = set(await admin.list_topics())
            if all(s.name in existing for s in wanted):
                return replication
        except KafkaError as error:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"could not create Kafka topics: {error!r}") from error
            log.info("waiting for Kafka to create topics", extra={"error": repr(error)})
        finally:
            await admin.close()
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"Kafka topics were not all created in time: {refused}")
        await asyncio.sleep(0.5)


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    """(topic, error code, message) of a CreateTopics response, whatever its version."""
    return [
        (entry[0], entry[1], entry[2] if len(entry) > 2 else None)
        for entry in response.topic_errors
    ]
