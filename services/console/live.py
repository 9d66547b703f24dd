"""Live boards: the projector's commits reach every open board within a second.

The projector raises a PostgreSQL notification on `BOARD_CHANNEL` with the agency's slug in the
transaction that changed the agency's read model (delivered at commit). Every web process
listens on its own connection; a change renders the agency's board once (however many browsers
watch it) and hands it to each watcher. A watcher keeps only the newest board: a slow browser
skips boards, never falls behind. The stream sends the current board when a browser connects,
so one that reconnects after a drop shows the true state. When the listening connection is lost
every watched board is rendered again once it is back, as changes may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

BOARD_CHANNEL = "pst_console_board"
DEBOUNCE_S = 0.05
"""Changes that arrive together (an incident's decision and its pages) make one render."""

Render = Callable[[str], Awaitable[str]]


async def notify_board(session: AsyncSession, agency: str) -> None:
    """Tell the agency's boards, when the caller's transaction commits."""
    await session.execute(
        text("SELECT pg_notify(:channel, :agency)"),
        {
            "channel": BOARD_CHANNEL,
            "agency": agency,
        },
    )


@dataclass(eq=False)
class Watcher:
    """One open board: the newest rendering not yet sent."""

    agency: str
    _newest: str | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, board: str) -> None:
        self._newest = board
        self._ready.set()

    async def next_board(self, timeout_s: float) -> str | None:
        """The newest board, or None after `timeout_s` without a change."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            return None
        self._ready.clear()
        board, self._newest = self._newest, None
        return board


class LiveBoards:
    """This process's listener and its watchers, by agency."""

    def __init__(self, database_url: str, render: Render) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._render = render
        self._watchers: dict[str, set[Watcher]] = {}
        self._dirty: set[str] = set()
        self._changed = asyncio.Event()
        self.listening = asyncio.Event()

    def watch(self, agency: str) -> Watcher:
        watcher = Watcher(agency)
        self._watchers.setdefault(agency, set()).add(watcher)
        return watcher

    def forget(self, watcher: Watcher) -> None:
        watchers = self._watchers.get(watcher.agency)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.agency]

    def watched(self) -> int:
        return sum(len(w) for w in self._watchers.values())

    def _mark(self, agency: str) -> None:
        if agency in self._watchers:
            self._dirty.add(agency)
            self._changed.set()

    async def listen(self, stop: asyncio.Event) -> None:
        """Keep a listening connection until `stop`; reconnect when it is lost."""
        while not stop.is_set():
            connection: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(
                    BOARD_CHANNEL, lambda _c, _pid, _channel, agency: self._mark(agency)
                )
                self.listening.set()
                for agency in list(self._watchers):  # whatever changed while we were away
                    self._mark(agency)
                stopped = asyncio.ensure_future(stop.wait())
                dropped = asyncio.ensure_future(lost.wait())
                await asyncio.wait({stopped, dropped}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                dropped.cancel()
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning("board listener lost the database", extra={"error": str(error)})
            finally:
                self.listening.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    async def publish(self, stop: asyncio.Event) -> None:
        """Render each changed agency's board once and offer it to its watchers."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)
            if not self._changed.is_set():
                continue
            await asyncio.sleep(DEBOUNCE_S)
            self._changed.clear()
            dirty, self._dirty = self._dirty, set()
            failed = False
            for agency in dirty:
                watchers = self._watchers.get(agency)
                if not watchers:
                    continue
                try:
                    board = await self._render(agency)
                except Exception:  # the database away: try again at the next change
                    log.exception("board could not be rendered", extra={"agency": agency})
                    self._dirty.add(agency)
                    failed = True
                    continue
                for watcher in list(watchers):
                    watcher.offer(board)
            if failed:
                await asyncio.sleep(1.0)
                self._changed.set()
