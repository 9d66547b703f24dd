"""The dispatcher's composition root: its consumer, timers and outbox relay run in the app's
lifespan, beside the probes that report on them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.dispatcher.bootstrap import build_dispatcher, start_loops
from shared.clock import Clock, SystemClock
from shared.http.service_app import build_service_app
from shared.policy import AgencyRegistry, load_registry
from shared.runtime import ServiceRuntime
from shared.settings import Settings

DESCRIPTION = (
    "Classifies incident reports against the agency's policy, chooses specialists and drives "
    "every assignment until enough have accepted."
)


def create_app(
    settings: Settings, *, clock: Clock | None = None, registry: AgencyRegistry | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        agencies = registry or load_registry(settings.agency_data)
        runtime = ServiceRuntime.open("dispatcher", settings, clock or SystemClock())
        app.state.runtime = runtime
        loops = start_loops(build_dispatcher(runtime, agencies))
        try:
            yield
        finally:
            await loops.close()
            await runtime.close()

    return build_service_app(
        service="dispatcher",
        title="PST activation: dispatcher",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
