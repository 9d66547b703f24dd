"""An intake app on the test's own database and topics, with a moved clock, driven over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.app import create_app
from services.intake.credentials import issue_token, rotate_cad_secret
from shared.clock import ManualClock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.outbox.models import OutboxMessage
from shared.policy import Role
from shared.settings import Settings


@dataclass
class Intake:
    client: httpx.AsyncClient
    sessions: SessionFactory
    clock: ManualClock
    settings: Settings
    engine: AsyncEngine

    async def token(self, agency: str, role: str, name: str | None = None) -> str:
        async with unit_of_work(self.sessions) as session:
            token = await issue_token(
                session,
                agency=agency,
                role=Role(role),
                name=name or f"{role} of {agency}",
                phone=None,
                now=self.clock.now(),
            )
            await session.commit()
        return token

    async def cad_secret(self, agency: str) -> str:
        async with unit_of_work(self.sessions) as session:
            secret = await rotate_cad_secret(session, agency=agency, now=self.clock.now())
            await session.commit()
        return secret

    async def outbox(self) -> list[dict[str, Any]]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return [
                {
                    "topic": r.topic,
                    "key": r.key,
                    "type": r.event_type,
                    "payload": r.payload,
                    "status": r.status,
                }
                for r in rows
            ]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def intake(settings: Settings, clock: ManualClock) -> AsyncIterator[Intake]:
    app = create_app(settings, clock=clock, run_relay=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            runtime = app.state.runtime
            yield Intake(client, runtime.sessions, clock, settings, runtime.engine)
