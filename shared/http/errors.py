"""Mapping the caller's faults to JSON responses, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.db.availability import database_unavailable
from shared.errors import CallerError

RETRY_AFTER_S = 5

log = logging.getLogger(__name__)


def _field_path(location: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CallerError)
    async def caller_error(request: Request, error: CallerError) -> JSONResponse:
        log.info(
            "request refused",
            extra={"path": request.url.path, "status": error.status_code, "detail": error.detail},
        )
        return JSONResponse(
            status_code=error.status_code, content={"detail": error.detail}, headers=error.headers
        )

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        """The database is away or saturated: nothing was stored, so say so and ask for a
        retry (CAD systems retry on 503); not the caller's fault, and not a bug either."""
        log.warning(
            "database unavailable; request refused with 503",
            extra={"path": request.url.path, "error": type(error).__name__},
        )
        return JSONResponse(
            status_code=503,
            content={"detail": "temporarily unable to reach the database; nothing was stored"},
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for failure in (PoolTimeout, OperationalError, InterfaceError, ConnectionError):
        app.add_exception_handler(failure, unavailable)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, error: DBAPIError) -> JSONResponse:
        """Another database error: the database going away (starting up, shutting down: see
        `database_unavailable`) is a 503 too; anything else is a bug, left to become a 500."""
        if not database_unavailable(error):
            raise error
        return await unavailable(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field_path(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in error.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return JSONResponse(status_code=422, content={"detail": summary, "errors": problems})
