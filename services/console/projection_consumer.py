"""The console's consumer: each event (or a partition's run of them) into the read model in one
transaction, which tells the boards of the agencies it changed when it commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.console.live import notify_board
from services.console.projector import SHOWN, project
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import AnyEvent


@dataclass
class ProjectionHandler:
    sessions: SessionFactory

    async def __call__(self, event: AnyEvent) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[AnyEvent]) -> None:
        shown = [event for event in events if isinstance(event, SHOWN)]
        if not shown:
            return  # page requests and withdrawals: nothing the console shows
        async with unit_of_work(self.sessions) as session:
            changed: set[tuple[str, uuid.UUID | None]] = set()
            for event in shown:
                board = await project(session, event)
                if board is not None:
                    changed.add(board)
            for agency, incident_id in sorted(changed, key=str):
                await notify_board(session, agency, incident_id)
            await session.commit()
