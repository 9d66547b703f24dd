"""Live boards: the projector's commits reach every open board within a second.

The projector raises a PostgreSQL notification on `BOARD_CHANNEL` in the transaction that
changed the read model (delivered at commit), naming the agency and, when the change was an
incident's, the incident. Every web process listens on its own connection; a change renders the
changed incident's card once, however many browsers watch the agency's board, and hands it to
each watcher, which sends it as a small update (not the whole board). A watcher keeps only the
newest card of each incident: a slow browser skips states, never falls behind. A stream sends
the whole board when a browser connects, so one that reconnects after a drop shows the true
state; when the listening connection itself is lost, every watcher is sent the whole board again
once it is back, as changes may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

BOARD_CHANNEL = "pst_console_board"
DEBOUNCE_S = 0.05
"""Changes that arrive together (an incident's decision and its pages) make one render."""

RenderCard = Callable[[str, uuid.UUID], Awaitable[str]]
RenderBoard = Callable[[str], Awaitable[tuple[str, set[uuid.UUID]]]]
RenderMeta = Callable[[str], Awaitable[str]]


async def notify_board(
    session: AsyncSession, agency: str, incident_id: uuid.UUID | None = None
) -> None:
    """Tell the agency's boards (of the incident's card, when given), when the caller's
    transaction commits."""
    payload = agency if incident_id is None else f"{agency} {incident_id}"
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": BOARD_CHANNEL, "payload": payload},
    )


@dataclass(frozen=True, slots=True)
class BoardChange:
    """What changed since a watcher's last update: `full` (send the whole board again), the
    newest card of each changed incident, the board's heading; `other` for changes that are
    not an incident's (an alert, a test phone's message)."""

    full: bool
    cards: Mapping[uuid.UUID, str]
    meta: str | None
    other: bool


@dataclass(eq=False)
class Watcher:
    """One open stream of an agency's changes."""

    agency: str
    _cards: dict[uuid.UUID, str] = field(default_factory=dict)
    _meta: str | None = None
    _full: bool = False
    _other: bool = False
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, cards: Mapping[uuid.UUID, str], meta: str | None, *, other: bool) -> None:
        self._cards.update(cards)
        self._meta = meta if meta is not None else self._meta
        self._other = self._other or other
        self._ready.set()

    def offer_full(self) -> None:
        self._full = True
        self._ready.set()

    async def next_change(self, timeout_s: float) -> BoardChange | None:
        """The changes since the last call, or None after `timeout_s` without one."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            return None
        self._ready.clear()
        change = BoardChange(self._full, self._cards, self._meta, self._other)
        self._cards, self._meta, self._full, self._other = {}, None, False, False
        return change


class LiveBoards:
    """This process's listener and its watchers, by agency."""

    def __init__(
        self, database_url: str, *, board: RenderBoard, card: RenderCard, meta: RenderMeta
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._board = board
        self._card = card
        self._meta = meta
        self._versions: dict[str, int] = {}
        self._boards: dict[str, tuple[int, asyncio.Future[tuple[str, set[uuid.UUID]]]]] = {}
        self._watchers: dict[str, set[Watcher]] = {}
        self._dirty: dict[str, set[uuid.UUID | None]] = {}
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

    async def board(self, agency: str) -> tuple[str, set[uuid.UUID]]:
        """The agency's whole board and the incidents on it, rendered once however many
        browsers connect at the same time (again after each change)."""
        version = self._versions.get(agency, 0)
        cached = self._boards.get(agency)
        if (
            cached is None
            or cached[0] != version
            or (cached[1].done() and cached[1].exception() is not None)
        ):
            cached = (version, asyncio.ensure_future(self._board(agency)))
            self._boards[agency] = cached
        return await asyncio.shield(cached[1])

    def _mark(self, payload: str) -> None:
        agency, _, incident = payload.partition(" ")
        self._versions[agency] = self._versions.get(agency, 0) + 1
        if agency not in self._watchers:
            return
        try:
            incident_id = uuid.UUID(incident) if incident else None
        except ValueError:
            incident_id = None
        self._dirty.setdefault(agency, set()).add(incident_id)
        self._changed.set()

    def _everything_again(self) -> None:
        for agency in self._versions:
            self._versions[agency] += 1
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.offer_full()

    async def listen(self, stop: asyncio.Event) -> None:
        """Keep a listening connection until `stop`; reconnect when it is lost."""
        while not stop.is_set():
            connection: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(
                    BOARD_CHANNEL, lambda _c, _pid, _channel, payload: self._mark(payload)
                )
                if not self.listening.is_set() and self.watched():
                    self._everything_again()  # whatever changed while we were away
                self.listening.set()
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
        """Render each changed card once and offer it to the agency's watchers."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)
            if not self._changed.is_set():
                continue
            await asyncio.sleep(DEBOUNCE_S)
            self._changed.clear()
            dirty, self._dirty = self._dirty, {}
            failed = False
            for agency, changed in dirty.items():
                watchers = self._watchers.get(agency)
                if not watchers:
                    continue
                incidents = [i for i in changed if i is not None]
                try:
                    cards = {i: await self._card(agency, i) for i in incidents}
                    meta = await self._meta(agency) if incidents else None
                except Exception:  # the database away: try again shortly
                    log.exception("board could not be rendered", extra={"agency": agency})
                    self._dirty.setdefault(agency, set()).update(changed)
                    failed = True
                    continue
                for watcher in list(watchers):
                    watcher.offer(cards, meta, other=None in changed)
            if failed:
                await asyncio.sleep(1.0)
                self._changed.set()
