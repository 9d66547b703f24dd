"""A page's live stream against the real PostgreSQL listener: a change committed while the page
is first rendered for the stream is sent after it, not lost until the next change (the stand-
down that once left an incident's page showing specialists as still paged)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from services.console.live import DEBOUNCE_S, LiveBoards, notify_board
from services.console.web.rendering import Viewer, board_events, fragment_events
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work

SETTLE_S = DEBOUNCE_S + 0.5
"""Long enough for a notification to be heard and offered to the agency's watchers."""


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


async def _card(agency: str, incident_id: uuid.UUID) -> str:
    return f'<article id="card-{incident_id}">changed</article>'


async def _meta(agency: str) -> str:
    return "<h1>1 open incident</h1>"


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveBoards]:
    incident_id = uuid.uuid4()

    async def board(agency: str) -> tuple[str, set[uuid.UUID]]:
        return "<ol>board</ol>", {incident_id}

    boards = LiveBoards(database_url, board=board, card=_card, meta=_meta)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(boards.listen(stop)), asyncio.create_task(boards.publish(stop))]
    await asyncio.wait_for(boards.listening.wait(), 10)
    yield boards
    stop.set()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def _never() -> bool:
    return False


async def _always() -> bool:
    return True


VIEWER = Viewer(gone=_never, signed_in=_always)


async def _change(sessions: SessionFactory, incident_id: uuid.UUID) -> None:
    async with unit_of_work(sessions) as session:
        await notify_board(session, "kcmo", incident_id)
        await session.commit()
    await asyncio.sleep(SETTLE_S)


async def test_a_change_made_while_the_page_first_renders_is_rendered_again(
    live: LiveBoards, sessions: SessionFactory
) -> None:
    incident_id = uuid.uuid4()
    renders = 0

    async def render() -> str:
        nonlocal renders
        renders += 1
        if renders == 1:
            await _change(sessions, incident_id)
        return f"<p>rendering {renders}</p>"

    events = fragment_events(
        live, "kcmo", "incident", render, lambda change: incident_id in change.cards, VIEWER
    )
    try:
        assert "rendering 1" in await anext(events)
        assert "rendering 2" in await asyncio.wait_for(anext(events), 5)
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    assert live.watched() == 0


async def test_a_card_changed_while_the_board_first_renders_is_sent(
    live: LiveBoards, sessions: SessionFactory
) -> None:
    incident_id = uuid.uuid4()

    async def render_board() -> tuple[str, set[uuid.UUID]]:
        await _change(sessions, incident_id)
        return "<ol>board</ol>", {incident_id}

    events = board_events(live, "kcmo", render_board, VIEWER)
    try:
        assert (await anext(events)).startswith("event: board\n")
        card = await asyncio.wait_for(anext(events), 5)
        assert card.startswith(f"event: card-{incident_id}\n")
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    assert live.watched() == 0
