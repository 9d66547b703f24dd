"""`pst retention purge`: forget the facts of incidents closed longer ago than each agency's
retention period (the console's service also does it every hour)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from pst.commands.registry import agencies
from pst.localstack.discovery import effective_settings
from pst.operator_db import fail
from services.reports.retention import purge_due
from shared.db.engine import build_engine, build_session_factory


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="incident facts kept for a set time")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge", help="purge the facts of incidents past their agency's retention period now"
    )
    purge.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = effective_settings()
    if settings.database_url is None:
        return fail("retention purge", "set PST_DATABASE_URL or start the local stack")
    url = settings.database_url
    registry = agencies()

    async def purge() -> None:
        engine = build_engine(url, pool_size=1, application_name="pst-cli")
        try:
            for done in await purge_due(build_session_factory(engine), registry, datetime.now(UTC)):
                days = registry.get(done.agency).reports.incident_facts_days
                print(f"{done.agency}: {done.incidents} incidents purged (kept {days} days)")
        finally:
            await engine.dispose()

    asyncio.run(purge())
    return 0
