"""Serving one service's application inside another's on one port (the local stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


def mount_with_lifespan(host: FastAPI, path: str, app: FastAPI) -> None:
    """Serve `app` under `path` of `host`, and run its lifespan inside the host's (Starlette
    runs no lifespan of a mounted application by itself)."""
    host.mount(path, app)
    outer = host.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with outer(served), app.router.lifespan_context(app):
            yield

    host.router.lifespan_context = lifespan
