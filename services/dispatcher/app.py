"""The dispatcher's composition root: its consumer and timers run in the app's lifespan,
beside the probes that report on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.clock import Clock, SystemClock
from shared.http.service_app import build_service_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

DESCRIPTION = (
    "Classifies incident reports against the agency's policy, chooses specialists and drives "
    "every assignment until enough have accepted."
)


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("dispatcher", settings, clock or SystemClock())
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    return build_service_app(
        service="dispatcher",
        title="PST activation: dispatcher",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
