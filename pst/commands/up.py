"""`pst up`: the whole stack on this machine (see pst.localstack.stack)."""

from __future__ import annotations

import argparse
from typing import Any

from pst.localstack.stack import run_stack
from shared.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up", help="run database, broker and every service on this machine; Ctrl-C stops all"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return run_stack(Settings())
