"""The console's composition root.

`create_console` builds the console's own application, its paths relative to `/console`; the
local stack mounts it into each web process (one port), and `create_app` serves it alone as
the console service (`pst serve console`), which also runs the projector: the consumer that
builds the read model from the pipeline's events. Every process that serves pages listens for
the read model's changes (`live.LiveBoards`) and runs an outbox relay for the commands it
writes. Nothing connects at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from services.console.accounts.passwords import STANDARD_HASHER
from services.console.context import ConsoleContext
from services.console.live import LiveBoards
from services.console.projection_consumer import ProjectionHandler
from services.console.roster_loop import RosterLoop
from services.console.web.contact_log_routes import contact_log_router
from services.console.web.directory_routes import directory_router
from services.console.web.incident_routes import (
    incident_router,
    render_board,
    render_board_meta,
    render_card,
)
from services.console.web.pages import BASE, Pages
from services.console.web.report_routes import report_router
from services.console.web.request_routes import request_router
from services.console.web.security import NotSignedIn, security_headers
from services.console.web.sign_in_routes import sign_in_router
from services.console.web.team_routes import team_router
from services.intake.app import intake_context
from services.reports.retention import RetentionLoop
from shared.clock import Clock, SystemClock
from shared.errors import CallerError
from shared.http.service_app import build_service_app
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.consumer_runner import ConsumerRunner
from shared.loops import ServiceLoops
from shared.outbox.relay import OutboxRelay
from shared.policy import AgencyRegistry, load_registry
from shared.runtime import ServiceRuntime
from shared.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
TITLES = {
    400: "Not accepted",
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    413: "Too large",
    422: "Please check the form",
}


def create_console(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: AgencyRegistry | None = None,
    hasher: PasswordHasher = STANDARD_HASHER,
    run_projector: bool = False,
) -> FastAPI:
    agencies = registry or load_registry(settings.agency_data)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("console", settings, clock or SystemClock())
        pages = Pages(agencies)
        live = LiveBoards(
            settings.require_database_url(),
            board=lambda agency: render_board(ctx, agency),
            card=lambda agency, incident_id: render_card(ctx, agency, incident_id),
            meta=lambda agency: render_board_meta(ctx, agency),
        )
        ctx = ConsoleContext(
            runtime=runtime,
            registry=agencies,
            intake=intake_context(runtime, agencies),
            pages=pages,
            live=live,
            secure_cookies=str(settings.public_url).startswith("https://"),
            hasher=hasher,
        )
        app.state.console = ctx
        app.state.runtime = runtime
        loops = ServiceLoops()
        try:
            loops.start("console-board-listener", live.listen)
            loops.start("console-board-publisher", live.publish)
            loops.start("console-outbox-relay", _relay(runtime).run)
            if run_projector:
                loops.start("console-projector", _projector(runtime).run)
                retention = RetentionLoop(runtime.sessions, agencies, runtime.clock)
                loops.start("console-retention", retention.run)
                roster = RosterLoop(runtime.sessions, agencies, runtime.topics, runtime.clock)
                loops.start("console-roster", roster.run)
            yield
        finally:
            await loops.close()
            await runtime.close()

    app = FastAPI(
        title="PST activation: console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        sign_in_router(),
        incident_router(),
        team_router(),
        request_router(),
        report_router(),
        contact_log_router(),
        directory_router(),
    ):
        app.include_router(router)
    _install_error_pages(app)
    return app


def _relay(runtime: ServiceRuntime) -> OutboxRelay:
    return OutboxRelay(
        service="console",
        engine=runtime.engine,
        producer_factory=lambda: build_producer(
            runtime.kafka_bootstrap, client_id="pst-console-relay"
        ),
        clock=runtime.clock,
    )


def _projector(runtime: ServiceRuntime) -> ConsumerRunner:
    topics = runtime.topics
    handler = ProjectionHandler(runtime.sessions)
    return ConsumerRunner(
        name="console",
        consumer_factory=lambda: build_consumer(
            runtime.kafka_bootstrap, group_id=f"{topics.prefix}console", client_id="pst-console"
        ),
        subscribe_to=[
            topics.incidents,
            topics.page_commands,
            topics.page_outcomes,
            topics.activity,
        ],
        handle=handler,
        handle_batch=handler.handle_batch,
        sessions=runtime.sessions,
        topics=topics,
        clock=runtime.clock,
    )


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(CallerError)
    async def caller_error(request: Request, error: CallerError) -> Response:
        if isinstance(error, NotSignedIn):
            if request.url.path.endswith("/stream"):
                return Response("sign in first", status_code=401, media_type="text/plain")
            return RedirectResponse(f"{BASE}/sign-in", status_code=303)
        ctx: ConsoleContext = request.app.state.console
        html = ctx.pages.render(
            "error.html",
            user=None,
            flash=None,
            title=TITLES.get(error.status_code, "Not accepted"),
            message=error.detail,
            back=_back_to(request) if request.method == "POST" else None,
        )
        return HTMLResponse(html, status_code=error.status_code, headers=error.headers)


def _back_to(request: Request) -> str | None:
    """The console page the failed form was on (its path only: never another site's URL)."""
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.netloc != request.url.netloc or not referer.path.startswith(f"{BASE}/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: AgencyRegistry | None = None,
    hasher: PasswordHasher = STANDARD_HASHER,
) -> FastAPI:
    """The console service alone: its pages under `/console`, its projector, and the probes."""
    console = create_console(
        settings, clock=clock, registry=registry, hasher=hasher, run_projector=True
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with console.router.lifespan_context(console):
            app.state.runtime = console.state.runtime
            yield

    app = build_service_app(
        service="console",
        title="PST activation: console",
        description="The coordinators' console: live board, incident timelines, alerts, roster.",
        lifespan=lifespan,
    )
    app.mount(BASE, console)
    return app
