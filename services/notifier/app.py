"""The notifier's composition root: Twilio webhooks, and the worker that sends pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shared.clock import Clock, SystemClock
from shared.http.service_app import build_service_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

DESCRIPTION = (
    "Turns assignments into Twilio SMS pages and voice calls, takes replies and keypresses "
    "back, and reports delivery status."
)


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("notifier", settings, clock or SystemClock())
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    return build_service_app(
        service="notifier",
        title="PST activation: notifier",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
