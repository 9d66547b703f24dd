"""`pst topics`: create the Kafka topics the services need (idempotent)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from pst.localstack.discovery import effective_settings
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topics", help="create the Kafka topics the services need")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = effective_settings()
    if settings.kafka_bootstrap is None:
        print("pst topics: set PST_KAFKA_BOOTSTRAP or start the local stack", file=sys.stderr)
        return 2
    topics = Topics(settings.kafka_topic_prefix)
    replication = asyncio.run(ensure_topics(settings.kafka_bootstrap, topics.specs()))
    for spec in topics.specs():
        print(f"{spec.name}\t{spec.partitions} partitions\t{spec.purpose}")
    print(
        f"topics created now: replication factor {replication.factor}, min.insync.replicas "
        f"{replication.min_insync_replicas} ({replication.brokers} brokers); topics that "
        "existed are left as they are"
    )
    return 0
