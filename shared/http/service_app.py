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
    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
    app.add_middleware(RequestMetricsMiddleware, service=service)
    install_error_handlers(app)
    app.include_router(probe_router())
    for router in routers:
        app.include_router(router)
    return app
