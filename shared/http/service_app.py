"""The FastAPI application shell every service shares: probes, metrics, JSON errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from fastapi import APIRouter, FastAPI

from shared.http.errors import install_error_handlers
from shared.http.probes import probe_router
from shared.http.request_metrics import RequestMetricsMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def build_service_app(
    *,
    service: str,
    title: str,
    description: str,
    lifespan: Lifespan,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="1",
        lifespan=lifespan,
        # metrics are Prometheus (`request_metrics`) and nothing sets up OpenTelemetry; left on,
        # FastAPI asks the OpenTelemetry API on every request whether something has
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(RequestMetricsMiddleware, service=service)
    install_error_handlers(app)
    for router in routers:  # first: a request is matched against the routes in order
        app.include_router(router)
    app.include_router(probe_router())
    return app
