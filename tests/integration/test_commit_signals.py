"""A commit signal wakes a loop only once what the transaction wrote can be read.

The COMMIT here is made slow on purpose (a deferred trigger sleeps in it): a signal set when
SQLAlchemy's `commit` event fires, before the COMMIT is sent, would wake the waiter while the
row is still invisible, and a real loop would then sleep until its next poll.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from shared.db.commit_signals import CommitSignal, raise_flag
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work

SLOW_COMMIT = [
    "CREATE TABLE signal_probe (id int PRIMARY KEY)",
    """CREATE FUNCTION signal_probe_slow_commit() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$""",
    """CREATE CONSTRAINT TRIGGER signal_probe_slow_commit AFTER INSERT ON signal_probe
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION signal_probe_slow_commit()""",
]


async def test_the_signal_is_set_once_the_commit_is_visible(database_url: str) -> None:
    engine = build_engine(database_url)
    sessions = build_session_factory(engine)
    signal = CommitSignal(engine, "probe")
    try:
        async with unit_of_work(sessions) as session:
            for statement in SLOW_COMMIT:
                await session.execute(text(statement))
            await session.commit()

        async def first_look_after_the_signal() -> int:
            await signal.wait(asyncio.Event(), timeout_s=5)
            async with unit_of_work(sessions) as session:
                found = await session.scalar(text("SELECT count(*) FROM signal_probe"))
            return int(found or 0)

        waiter = asyncio.create_task(first_look_after_the_signal())
        await asyncio.sleep(0.05)
        async with unit_of_work(sessions) as session:
            await session.execute(text("INSERT INTO signal_probe VALUES (1)"))
            await raise_flag(session, "probe")
            await session.commit()
        assert await asyncio.wait_for(waiter, 5) == 1
    finally:
        signal.close()
        await engine.dispose()


async def test_a_rolled_back_transaction_sets_nothing(database_url: str) -> None:
    engine = build_engine(database_url)
    sessions = build_session_factory(engine)
    signal = CommitSignal(engine, "probe")
    try:
        async with unit_of_work(sessions) as session:
            await session.execute(text("SELECT 1"))
            await raise_flag(session, "probe")
            await session.rollback()
        async with unit_of_work(sessions) as session:  # the same connection, a new transaction
            await session.execute(text("SELECT 1"))
            await session.commit()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(signal.wait(asyncio.Event(), timeout_s=5), 0.3)
    finally:
        signal.close()
        await engine.dispose()
