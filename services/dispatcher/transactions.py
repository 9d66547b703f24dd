"""One transaction per unit of work, retried when another dispatcher got there first.

The database refuses a second specialist for the same place or the same specialist twice
(`shared.activation_records`); a refusal means another dispatcher already did that work, so
the whole unit is rolled back and run again on what is now committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
RETRIED_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def lost_a_race(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in RETRIED_SQLSTATES


async def in_transaction(
    sessions: SessionFactory, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run `work` in one transaction and commit it; run it again after losing a race."""
    attempt = 0
    while True:
        attempt += 1
        try:
            async with unit_of_work(sessions) as session:
                result = await work(session)
                await session.commit()
                return result
        except DBAPIError as error:
            if attempt >= ATTEMPTS or not lost_a_race(error):
                raise
            log.info(
                "another dispatcher changed the same incident; running again",
                extra={"attempt": attempt, "error": type(error).__name__},
            )


async def single_statement(session: AsyncSession) -> None:
    """Run the session's work without BEGIN and COMMIT: for work that is one statement, which
    PostgreSQL makes atomic by itself (autocommit). Two round trips fewer; call it before the
    statement, as the first thing the session does. The pool restores the usual transactions
    when the connection is returned."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
