"""What the fault test reads from the Kafka cluster itself: who leads each partition, who is in
its in-sync replicas, and a topic's `min.insync.replicas`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


async def partition_states(bootstrap: str, topics: list[str]) -> list[PartitionState]:
    """Every partition of `topics` as the cluster's metadata has it now; a topic or partition
    with an error (no leader yet, say) has leader -1."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
    try:
        await admin.start()
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    states = []
    for topic in described:
        for partition in topic["partitions"]:
            states.append(
                PartitionState(
                    topic["topic"],
                    partition["partition"],
                    partition["leader"] if partition["error_code"] == 0 else -1,
                    tuple(partition["replicas"]),
                    tuple(partition["isr"]),
                )
            )
    return sorted(states, key=lambda s: (s.topic, s.partition))


def busiest_leader(states: list[PartitionState]) -> tuple[int, int]:
    """The broker leading the most of these partitions (of equals, the lowest id), and how
    many it leads."""
    led = Counter(state.leader for state in states if state.leader >= 0)
    broker, count = min(led.items(), key=lambda item: (-item[1], item[0]))
    return broker, count


async def until_states(
    bootstrap: str,
    topics: list[str],
    condition: str,
    check: Callable[[list[PartitionState]], bool],
    *,
    timeout_s: float,
) -> float:
    """Poll the partitions' states until `check(states)` holds; seconds it took. Fails with
    `condition` and the last states at the deadline (the broker's own timeouts are retried)."""
    started = time.monotonic()
    last: list[PartitionState] | str = "not read yet"
    while True:
        try:
            last = await partition_states(bootstrap, topics)
            if check(last):
                return time.monotonic() - started
        except KafkaError as error:
            last = repr(error)
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{condition} not within {timeout_s:.0f} s; last: {last}")
        await asyncio.sleep(0.2)


async def min_insync_replicas(bootstrap: str, topic: str, *, timeout_s: float = 20) -> int:
    """The topic's `min.insync.replicas` (retried while a broker does not know the topic yet:
    a new topic reaches every broker's metadata a moment after it is created)."""
    deadline = time.monotonic() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
        try:
            await admin.start()
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})]
            )
        finally:
            await admin.close()
        for response in responses:
            for error_code, _, _, _, entries in response.resources:
                if error_code == 0:
                    for name, value, *_ in entries:
                        if name == "min.insync.replicas":
                            return int(value)
        if time.monotonic() > deadline:
            raise AssertionError(f"{topic}'s min.insync.replicas not readable: {responses}")
        await asyncio.sleep(0.3)
