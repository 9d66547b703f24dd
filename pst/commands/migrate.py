"""`pst migrate`: bring the database to the newest schema."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pst.localstack.discovery import effective_settings
from shared.db.migrate import upgrade_to_head


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("migrate", help="migrate the database to the newest schema")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = effective_settings()
    if settings.database_url is None:
        print("pst migrate: set PST_DATABASE_URL or start the local stack", file=sys.stderr)
        return 2
    upgrade_to_head(settings.database_url)
    return 0
