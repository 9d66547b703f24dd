"""`pst serve`: the sockets it listens on, and what it does once the service has started."""

from __future__ import annotations

import gc
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI

from pst.commands.serve import freeze_after_startup, listening_socket
from pst.localstack.ports import free_port


@pytest.fixture
def port() -> int:
    return free_port()


def test_processes_serving_one_service_can_share_its_port(port: int) -> None:
    first = listening_socket("127.0.0.1", port, shared=True)
    second = listening_socket("127.0.0.1", port, shared=True)
    try:
        for sock in (first, second):
            sock.listen()
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
    finally:
        first.close()
        second.close()


def test_a_port_taken_without_sharing_stays_taken(port: int) -> None:
    alone = listening_socket("127.0.0.1", port)
    alone.listen()
    try:
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port, shared=True)
    finally:
        alone.close()
    shared = listening_socket("127.0.0.1", port, shared=True)
    shared.listen()
    try:
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port)
    finally:
        shared.close()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
async def test_what_startup_built_is_left_out_of_garbage_collection() -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        seen.append("started")
        assert gc.get_freeze_count() == 0
        yield
        seen.append("stopped")

    app = FastAPI(lifespan=lifespan)
    freeze_after_startup(app)
    async with app.router.lifespan_context(app):
        assert seen == ["started"]
        assert gc.get_freeze_count() > 0
    assert seen == ["started", "stopped"]
