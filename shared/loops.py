"""The long-running loops of a service process (consumers, relay, timers), started and
stopped together by the service's lifespan.

The loops hold no durable state: everything they work on is in PostgreSQL, so stopping them
at any moment loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class ServiceLoops:
    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._on_close: list[Callable[[], None]] = []

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run `callback` after the loops have stopped (to release what they shared)."""
        self._on_close.append(callback)

    def start(self, name: str, loop: Loop) -> None:
        task = asyncio.create_task(self._guard(name, loop), name=name)
        self._tasks[name] = task

    async def _guard(self, name: str, loop: Loop) -> None:
        """A loop that crashes is logged and started again: a service never silently stops."""
        while not self.stop.is_set():
            try:
                await loop(self.stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service loop crashed; restarting it", extra={"loop": name})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 1.0)

    async def close(self, timeout_s: float = 5.0) -> None:
        self.stop.set()
        pending: set[asyncio.Task[None]] = set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks.values(), timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        for callback in self._on_close:
            callback()
        self._on_close.clear()
