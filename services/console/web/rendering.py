"""Answering with a page: the layout's navigation, the agency's clock face and the CSRF token
every form carries, and live streams (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.read_model import unacknowledged_alerts
from services.console.web.pages import BASE
from services.console.web.security import SESSION_COOKIE, still_live
from shared.db.unit_of_work import unit_of_work
from shared.policy import Role

TEAM = frozenset({Role.COORDINATOR, Role.MANAGER})
"""Who runs the team: the board, incidents, alerts, roster and test phones are theirs."""
REQUESTERS = frozenset({Role.COMMANDER, Role.SUPERVISOR, Role.COORDINATOR, Role.MANAGER})
"""Who may request the team with the console's form (as `POST /v1/incidents` allows; the chief
sees only statistics in the console)."""
KEEP_ALIVE_S = 15.0


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
        ]
        if not ctx.runtime.settings.twilio_configured:
            items.append(("test-phones", "Test phones", 0))
    if user.role in REQUESTERS:
        items.append(("request", "Request the team", 0))
    if user.role in (Role.COMMANDER, Role.SUPERVISOR):
        items.append(("my-requests", "My requests", 0))
    items.append(("statistics", "Statistics", 0))
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


def live_stream(
    ctx: ConsoleContext,
    request: Request,
    agency: str,
    event: str,
    render: Callable[[], Awaitable[str]],
    *,
    offered: bool = False,
) -> StreamingResponse:
    """A stream of `event`s, each a fresh rendering: one at once (so a browser that reconnects
    is brought up to date), then one at every change of the agency's read model. It ends with
    `signed-out` when the session does (watching is not activity: it does not keep the session
    alive). `offered`: send the rendering `LiveBoards` made once for all the agency's watchers
    (the board) instead of rendering again."""
    token = request.cookies.get(SESSION_COOKIE)

    async def events() -> AsyncIterator[str]:
        watcher = ctx.live.watch(agency)
        try:
            yield sse_message(event, await render())
            while not await request.is_disconnected():
                changed = await watcher.next_board(KEEP_ALIVE_S)
                async with unit_of_work(ctx.runtime.sessions) as session:
                    live = await still_live(session, token, ctx.runtime.clock.now())
                if not live:
                    yield sse_message("signed-out", SIGNED_OUT)
                    return
                if changed is None:
                    yield ": still here\n\n"
                    continue
                yield sse_message(event, changed if offered else await render())
        finally:
            ctx.live.forget(watcher)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
