"""Waking this process's loops when a transaction that concerns them commits.

A handler raises a named flag on its transaction (`raise_flag`); when that transaction has
committed, every `CommitSignal` of that name on the same engine is set, so the outbox relay or
the page sender starts at once instead of at its next poll. In-process only, and only after
commit: other processes still find the work by polling. (PostgreSQL's NOTIFY would reach them
too, but it serialises the commits of every notifying transaction, which caps throughput.)

"After commit" means after PostgreSQL has answered the COMMIT. SQLAlchemy's `commit` event
fires before the COMMIT is sent; a loop woken there would look for the rows while the COMMIT is
still on its way, find nothing, and sleep until its next poll (the page sender's second). So
the `commit` event only moves the transaction's flags aside, and they are signalled when the
connection goes back to the pool, which a session does once its commit has returned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

_FLAGS = "pst_commit_flags"
"""Flags raised by the connection's open transaction."""
_COMMITTED = "pst_committed_flags"
"""Flags of transactions committed since the connection was checked out; signalled at checkin."""


async def raise_flag(target: AsyncSession | AsyncConnection, name: str) -> None:
    """Mark the session's (or connection's) current transaction: its commit sets the signals
    named `name`."""
    connection = target if isinstance(target, AsyncConnection) else await target.connection()
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
        event.listen(self._engine, "checkout", self._on_checkout)
        event.listen(self._engine, "checkin", self._on_checkin)

    def _on_commit(self, connection: Connection) -> None:
        # Called before the COMMIT is sent: only set the flags aside (every signal's listener
        # runs this; the second finds the flags already moved).
        if connection.invalidated:
            return
        raised = connection.info.pop(_FLAGS, None)
        if raised:
            connection.info.setdefault(_COMMITTED, set()).update(raised)

    def _on_checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # The session's commit has returned (it releases the connection after it): what it
        # committed is visible to every other connection now.
        if self._name in record.info.get(_COMMITTED, ()):
            self._event.set()

    def _on_checkout(
        self, _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any
    ) -> None:
        record.info.pop(_COMMITTED, None)

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
            # Cleared before anything else runs: a commit signalled while the waiters below
            # are being cancelled stays set for the next wait.
            self._event.clear()
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    def close(self) -> None:
        listeners: tuple[tuple[str, Callable[..., None]], ...] = (
            ("begin", self._forget),
            ("commit", self._on_commit),
            ("rollback", self._forget),
            ("checkout", self._on_checkout),
            ("checkin", self._on_checkin),
        )
        for name, listener in listeners:
            if event.contains(self._engine, name, listener):
                event.remove(self._engine, name, listener)
