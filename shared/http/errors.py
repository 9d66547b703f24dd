"""Mapping the caller's faults to JSON responses, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shared.errors import CallerError

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

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field_path(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in error.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return JSONResponse(status_code=422, content={"detail": summary, "errors": problems})
