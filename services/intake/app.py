"""Intake's composition root: the web application that receives incident reports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services.intake.context import IntakeContext
from services.intake.new_incidents import NewIncidentWriter
from services.intake.openapi import install_openapi
from services.intake.request_limits import BodySizeLimit, RateLimiter
from services.intake.routes import intake_router
from shared.clock import Clock, SystemClock
from shared.http.service_app import build_service_app
from shared.kafka.clients import build_producer
from shared.loops import ServiceLoops
from shared.outbox.relay import OutboxRelay
from shared.policy import AgencyRegistry, load_registry
from shared.runtime import ServiceRuntime
from shared.settings import Settings

DESCRIPTION = (
    "Receives incident reports from CAD systems (signed webhooks) and from on-scene commanders "
    "and supervisors (bearer tokens), stores each once and publishes it through an outbox."
)


def intake_context(runtime: ServiceRuntime, registry: AgencyRegistry) -> IntakeContext:
    """What intake's handlers are given; also built by the console, whose forms call them."""
    settings = runtime.settings
    return IntakeContext(
        runtime=runtime,
        registry=registry,
        token_limiter=RateLimiter(
            per_second=settings.token_rate_per_s, burst=int(settings.token_rate_per_s * 3)
        ),
        cad_limiter=RateLimiter(
            per_second=settings.cad_rate_per_s, burst=int(settings.cad_rate_per_s * 2)
        ),
        new_incidents=NewIncidentWriter(
            runtime.engine.execution_options(isolation_level="AUTOCOMMIT")
        ),
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: AgencyRegistry | None = None,
    extra_routers: Sequence[APIRouter] = (),
    run_relay: bool = True,
) -> FastAPI:
    """`extra_routers` lets the local stack serve the notifier's webhooks on the same port;
    `run_relay=False` lets a test publish the outbox itself."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("intake", settings, clock or SystemClock())
        app.state.runtime = runtime
        app.state.intake = intake_context(runtime, registry or load_registry(settings.agency_data))
        loops = ServiceLoops()
        if run_relay:
            relay = OutboxRelay(
                service="intake",
                engine=runtime.engine,
                producer_factory=lambda: build_producer(
                    runtime.kafka_bootstrap, client_id="pst-intake-relay"
                ),
                clock=runtime.clock,
            )
            loops.start("outbox-relay", relay.run)
        try:
            yield
        finally:
            await loops.close()
            await runtime.close()

    app = build_service_app(
        service="intake",
        title="PST activation: intake",
        description=DESCRIPTION,
        lifespan=lifespan,
        routers=[intake_router(), *extra_routers],
    )
    app.add_middleware(BodySizeLimit)
    install_openapi(app)
    return app
