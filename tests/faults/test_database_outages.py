"""Regressions the fault test found around PostgreSQL restarts, pinned down without chaos.

1. A pooled connection that died with the server (a restart, a terminated backend) was turned,
   on the session's rollback, into `PendingRollbackError`: the commit-signal listener read the
   invalidated connection's `info`. Not a transient error, so a consumer counted it towards
   dead-lettering the event, the sender loop crashed, and intake could answer 500.
2. While PostgreSQL starts up or shuts down it refuses connections with SQLSTATE 57P03 (57P01,
   57P02 when it ends them); asyncpg's errors reach us as a bare `DBAPIError`, which was read as
   permanent (a dead letter after five attempts) and answered 500 instead of 503.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db.commit_signals import CommitSignal
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.http.errors import install_error_handlers
from shared.transient_failures import is_transient

pytestmark = pytest.mark.faults


class _PostgresError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _dbapi_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, _PostgresError(f"sqlstate {sqlstate}", sqlstate))


async def test_a_connection_that_died_mid_transaction_fails_as_a_transient_error(
    database_url: str,
) -> None:
    engine = build_engine(database_url, pool_size=1)
    signal = CommitSignal(engine, "anything")  # its listeners are what turned the error
    try:
        with pytest.raises(Exception) as raised:
            async with unit_of_work(build_session_factory(engine)) as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
                killer = await asyncpg.connect(database_url.replace("+asyncpg", ""))
                try:
                    await killer.execute("SELECT pg_terminate_backend($1)", pid)
                finally:
                    await killer.close()
                await session.execute(text("SELECT 1"))
        assert is_transient(raised.value), repr(raised.value)
    finally:
        signal.close()
        await engine.dispose()


@pytest.mark.parametrize("sqlstate", ["57P01", "57P02", "57P03", "08006", "53300"])
def test_the_database_going_away_is_transient(sqlstate: str) -> None:
    assert is_transient(_dbapi_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", "22P02"])
def test_a_bad_statement_is_not_transient(sqlstate: str) -> None:
    assert not is_transient(_dbapi_error(sqlstate))


async def test_the_database_starting_up_is_a_503_not_a_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/starting-up")
    async def starting_up() -> None:
        raise _dbapi_error("57P03")

    @app.get("/a-bug")
    async def a_bug() -> None:
        raise _dbapi_error("42P01")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        starting = await client.get("/starting-up")
        bug = await client.get("/a-bug")
    assert starting.status_code == 503
    assert starting.headers["Retry-After"]
    assert bug.status_code == 500
