"""Waking this process's loops when a transaction that concerns them commits.

A handler raises a named flag on its transaction (`raise_flag`); when that transaction commits,
every `CommitSignal` of that name on the same engine is set, so the outbox relay or the page
sender starts at once instead of at its next poll. In-process only, and only after commit:
other processes still find the work by polling. (PostgreSQL's NOTIFY would reach them too, but
it serialises the commits of every notifying transaction, which caps throughput.)
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

_FLAGS = "pst_commit_flags"


async def raise_flag(session: AsyncSession, name: str) -> None:
    """Mark the session's current transaction: its commit sets the signals named `name`."""
    connection = await session.connection()
    connection.info.setdefault(_FLAGS, set()).add(name)


class CommitSignal:
    """An asyncio event set by commits that raised `name`; `close()` when done with it."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine.sync_engine
        self._name = name
        self._event = asyncio.Event()
        event.listen(self._engine, "begin", self._forget)
        event.listen(self._engine, "commit", self._on_commit)
        event.listen(self._engine, "rollback", self._forget)

    def _on_commit(self, connection: Connection) -> None:
        if self._name in connection.info.get(_FLAGS, ()):
            self._event.set()

    def _forget(self, connection: Connection) -> None:
        # A connection that died mid-transaction is invalidated: its flags went with its DBAPI
        # connection, and reading `info` would raise PendingRollbackError in place of the
        # transient error that killed it (a dead letter, a crashed loop, a 500).
        if connection.invalidated:
            return
        connection.info.pop(_FLAGS, None)

    def set(self) -> None:
        self._event.set()

    async def wait(self, stop: asyncio.Event, timeout_s: float) -> None:
        """Until the signal or `stop` is set, or `timeout_s` passes; then clear the signal."""
        waiters = [asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        self._event.clear()

    def close(self) -> None:
        for name, listener in (
            ("begin", self._forget),
            ("commit", self._on_commit),
            ("rollback", self._forget),
        ):
            if event.contains(self._engine, name, listener):
                event.remove(self._engine, name, listener)
