"""How operator commands reach the database: one engine, one unit of work, then closed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from pst.localstack.discovery import effective_settings
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work

T = TypeVar("T")


class NoDatabase(Exception):
    pass


def in_one_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a unit of work on the configured database and commit it."""
    settings = effective_settings()
    if settings.database_url is None:
        raise NoDatabase("set PST_DATABASE_URL or start the local stack with `pst up`")
    url = settings.database_url

    async def run() -> T:
        engine = build_engine(url, pool_size=1, application_name="pst-cli")
        try:
            async with unit_of_work(build_session_factory(engine)) as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def fail(command: str, reason: str) -> int:
    """The caller's mistake: one line on stderr, exit 2."""
    print(f"pst {command}: {reason}", file=sys.stderr)
    return 2
