"""Answering with a page: the layout's navigation, the agency's clock face and the CSRF token
every form carries, and live streams (Server-Sent Events)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.live import BoardChange, LiveBoards, Watcher
from services.console.read_model import unacknowledged_alerts
from services.console.web.pages import BASE
from services.console.web.security import SESSION_COOKIE, still_live
from shared.db.unit_of_work import unit_of_work
from shared.policy import Role

TEAM = frozenset({Role.COORDINATOR, Role.MANAGER})
STATISTICS_READERS = frozenset({Role.CHIEF, Role.MANAGER, Role.COORDINATOR})
"""Who reads the anonymous statistics (as `services.reports.statistics.READERS`)."""
"""Who runs the team: the board, incidents, alerts, roster and test phones are theirs."""
REQUESTERS = frozenset({Role.COMMANDER, Role.SUPERVISOR, Role.COORDINATOR, Role.MANAGER})
"""Who may request the team with the console's form (as `POST /v1/incidents` allows; the chief
sees only statistics in the console)."""
KEEP_ALIVE_S = 15.0
SESSION_CHECK_S = 10.0
"""A stream asks whether its session is still live at most this often (and at every quiet
`KEEP_ALIVE_S`), not at every change: fifty boards need not ask fifty times a second."""


def home_of(user: SignedIn) -> str:
    if user.role in TEAM:
        return f"{BASE}/board"
    if user.role in REQUESTERS:
        return f"{BASE}/request"
    return f"{BASE}/statistics"


async def navigation(
    ctx: ConsoleContext, session: AsyncSession, user: SignedIn, current: str
) -> list[dict[str, Any]]:
    items: list[tuple[str, str, int]] = []
    if user.role in TEAM:
        items += [
            ("board", "Board", 0),
            ("alerts", "Alerts", await unacknowledged_alerts(session, user.agency)),
            ("roster", "Roster", 0),
            ("training", "Training", 0),
            ("directory", "Directory", 0),
        ]
        if not ctx.runtime.settings.twilio_configured:
            items.append(("test-phones", "Test phones", 0))
    if user.role in REQUESTERS:
        items.append(("request", "Request the team", 0))
    if user.role in (Role.COMMANDER, Role.SUPERVISOR):
        items.append(("my-requests", "My requests", 0))
    if user.role in STATISTICS_READERS:
        items.append(("statistics", "Statistics", 0))
    if user.role == Role.MANAGER:
        items.append(("overtime", "Overtime & expenses", 0))
    return [
        {"href": f"{BASE}/{key}", "label": label, "count": count, "current": key == current}
        for key, label, count in items
    ]


async def page(
    ctx: ConsoleContext,
    session: AsyncSession,
    user: SignedIn,
    template: str,
    *,
    current: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("flash", None)
    html = ctx.pages.render(
        template,
        user=user,
        csrf_token=user.csrf_token,
        nav=await navigation(ctx, session, user, current),
        now=ctx.runtime.clock.now(),
        **ctx.pages.agency_globals(user.agency),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def sse_message(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


SIGNED_OUT = (
    f'<p class="flash error">Your session has ended. <a href="{BASE}/sign-in">Sign in again</a>.'
    "</p>"
)

Events = AsyncIterator[str]


def _streaming(events: Events) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whom a stream is for: whether their browser has gone, whether their session is live."""

    gone: Callable[[], Awaitable[bool]]
    signed_in: Callable[[], Awaitable[bool]]


def _viewer(ctx: ConsoleContext, request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)

    async def signed_in() -> bool:
        async with unit_of_work(ctx.runtime.sessions) as session:
            return await still_live(session, token, ctx.runtime.clock.now())

    return Viewer(request.is_disconnected, signed_in)


async def _changes(watcher: Watcher, viewer: Viewer) -> AsyncIterator[BoardChange | None]:
    """The agency's changes as `watcher` collects them (None: a quiet while, time for a
    keep-alive), until the browser goes or the session ends (then one `SignedOut`). Watching
    is not activity: it does not keep the session alive."""
    checked = -math.inf
    while not await viewer.gone():
        change = await watcher.next_change(KEEP_ALIVE_S)
        if change is None or time.monotonic() - checked >= SESSION_CHECK_S:
            if not await viewer.signed_in():
                raise SignedOut()
            checked = time.monotonic()
        yield change


class SignedOut(Exception):
    """The stream's session ended."""


async def board_events(
    live: LiveBoards,
    agency: str,
    render_board: Callable[[], Awaitable[tuple[str, set[uuid.UUID]]]],
    viewer: Viewer,
) -> Events:
    """The board at once (`board`: so a browser that reconnects is brought up to date), then
    each changed incident's card as it changes: `card-<id>` replaces a card the browser has,
    `new-card` adds one at the top; `board-meta` is the heading with the count. The cards are
    those `LiveBoards` rendered once for every watcher of the agency. The watcher is there
    before the first rendering, so no change falls between the two."""
    watcher = live.watch(agency)
    try:
        html, shown = await render_board()
        known = set(shown)  # this browser's: the rendering is shared
        yield sse_message("board", html)
        async for change in _changes(watcher, viewer):
            if change is None:
                yield ": still here\n\n"
                continue
            if change.full:
                html, shown = await render_board()
                known = set(shown)
                yield sse_message("board", html)
                continue
            for incident_id, card in change.cards.items():
                if incident_id in known:
                    yield sse_message(f"card-{incident_id}", card)
                elif "hidden" not in card.split(">", 1)[0]:
                    known.add(incident_id)
                    yield sse_message("new-card", card)
            if change.meta is not None:
                yield sse_message("board-meta", change.meta)
    except SignedOut:
        yield sse_message("signed-out", SIGNED_OUT)
    finally:
        live.forget(watcher)


def board_stream(
    ctx: ConsoleContext,
    request: Request,
    agency: str,
    render_board: Callable[[], Awaitable[tuple[str, set[uuid.UUID]]]],
) -> StreamingResponse:
    return _streaming(board_events(ctx.live, agency, render_board, _viewer(ctx, request)))


async def fragment_events(
    live: LiveBoards,
    agency: str,
    event: str,
    render: Callable[[], Awaitable[str]],
    wants: Callable[[BoardChange], bool],
    viewer: Viewer,
) -> Events:
    """A page's live part (`event`), rendered at once and again after every change of the
    agency's read model that `wants` says concerns it. The watcher is there before the first
    rendering, so a change made while it renders is rendered again, never lost."""
    watcher = live.watch(agency)
    try:
        yield sse_message(event, await render())
        async for change in _changes(watcher, viewer):
            if change is None:
                yield ": still here\n\n"
            elif change.full or wants(change):
                yield sse_message(event, await render())
    except SignedOut:
        yield sse_message("signed-out", SIGNED_OUT)
    finally:
        live.forget(watcher)


def fragment_stream(
    ctx: ConsoleContext,
    request: Request,
    agency: str,
    event: str,
    render: Callable[[], Awaitable[str]],
    wants: Callable[[BoardChange], bool],
) -> StreamingResponse:
    return _streaming(
        fragment_events(ctx.live, agency, event, render, wants, _viewer(ctx, request))
    )
