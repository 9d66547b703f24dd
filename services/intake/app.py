"""Intake's composition root: the web application that receives incident reports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared.clock import Clock, SystemClock
from shared.http.service_app import build_service_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

DESCRIPTION = (
    "Receives incident reports from CAD systems (signed webhooks) and from on-scene commanders "
    "and supervisors (bearer tokens), stores each once and publishes it through an outbox."
)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """`extra_routers` lets the local stack serve the notifier's webhooks on the same port."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("intake", settings, clock or SystemClock())
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    return build_service_app(
        service="intake",
        title="PST activation: intake",
        description=DESCRIPTION,
        lifespan=lifespan,
        routers=list(extra_routers),
    )
