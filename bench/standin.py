"""The Twilio stand-in as the stack benches run it (`python -m tests.twilio_standin`, a process
of its own), and the SMS it received, read back by the alert or incident number in each body."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import aiohttp

STANDIN_AUTH_TOKEN = "standin-auth-token"


@contextmanager
def standin(callback_base: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.twilio_standin"),
            *("--port", "0", "--callback-base", callback_base),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(10)


class SmsLog:
    """The SMS the stand-in has received, by alert number (read from each body)."""

    def __init__(self, session: aiohttp.ClientSession, url: str, number: re.Pattern[str]):
        self.session, self.url, self.number = session, url, number
        self.seen = 0
        self.by_alert: dict[int, list[float]] = defaultdict(list)

    async def refresh(self) -> None:
        async with self.session.get(
            f"{self.url}/_standin/requests", params={"since": str(self.seen)}
        ) as answer:
            requests = await answer.json()
        self.seen += len(requests)
        for request in requests:
            if request["resource"] != "Messages":
                continue
            found = self.number.search(request["form"].get("Body", ""))
            if found:
                at = datetime.fromisoformat(request["at"]).timestamp()
                self.by_alert[int(found.group(1))].append(at)

    async def from_now(self) -> None:
        """Skip what the stand-in has already: an earlier run's SMS carry the same numbers."""
        await self.refresh()
        self.by_alert.clear()

    async def wait(self, numbers: list[int], pages: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            await self.refresh()
            missing = [n for n in numbers if len(self.by_alert.get(n, ())) < pages]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(missing)} alerts without their SMS: {missing[:10]}")
            await asyncio.sleep(0.25)
