"""`pst up`: the whole stack on this machine (see pst.localstack.stack)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pst.localstack.stack import run_stack
from shared.settings import Settings

MAX_PROCESSES = 16


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_PROCESSES}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up", help="run database, broker and every service on this machine; Ctrl-C stops all"
    )
    parser.add_argument(
        "--kafka-brokers",
        type=_count,
        default=1,
        metavar="N",
        help="run a KRaft cluster of N combined broker+controller nodes instead of one broker "
        "(topics then get replication factor min(3, N), min.insync.replicas 2 from 3)",
    )
    parser.add_argument(
        "--replicas",
        type=_count,
        metavar="N",
        help="run N processes each of the web tier, the dispatcher and the notifier "
        "(default: one dispatcher, one notifier, PST_WEB_WORKERS web processes)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.kafka_brokers > 1 and settings.kafka_bootstrap is not None:
        print(
            "pst up: --kafka-brokers starts a local cluster, but PST_KAFKA_BOOTSTRAP names "
            "one to use; unset one of them",
            file=sys.stderr,
        )
        return 2
    return run_stack(settings, kafka_brokers=args.kafka_brokers, replicas=args.replicas)
