"""The console's board on `pst up`: how long it takes to render, and how soon a report shows.

    .venv/bin/python -m bench.console_board [--incidents 500] [--specialists 200]
                                            [--renders 200] [--boards 50] [--reports 30]

Starts `pst up` (Twilio not configured: pages are kept unsent, as in a demo), provisions a kcmo
roster of `--specialists`, a CAD secret and a coordinator through the `pst` commands, signs the
coordinator in with password and TOTP as a browser does, then:
1. load: `--incidents` activating incidents as signed CAD webhooks, and waits until all of them
   are on the board (the console's read model);
2. render: `--renders` requests of the full board (`GET /console/board`), one at a time; the
   time to the last byte on loopback is the server's time plus a loopback round trip;
3. live: `--boards` open boards (`/console/board/stream`, as htmx's SSE extension holds them),
   then `--reports` more reports one every half second; for each report and each board the
   time from sending the webhook until a board update that holds the report's CAD number.
Prints one JSON line with p50/p95/p99 of both and the targets beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from bench.harness import Stack, machine, percentile, pst_up, roster
from services.console.accounts import totp
from services.intake.cad_signature import signature_header

SECRET = re.compile(r"secret=([A-Z2-7]+)")
PASSWORD = re.compile(r"first password:\s+(\S+)")


def report(number: int) -> dict[str, Any]:
    occurred = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {
        "agency": "kcmo",
        "external_id": f"BOARD-{number:05d}",
        "occurred_at": occurred,
        "event": "line_of_duty_death",
        "location": {"lat": 39.0997, "lon": -94.5786, "address": f"{number} Main St"},
        "persons": [{"kind": "member", "member_id": f"V{number}", "outcome": "death"}],
    }


class Bench:
    def __init__(self, stack: Stack, session: aiohttp.ClientSession, secret: str) -> None:
        self.stack = stack
        self.session = session
        self.secret = secret

    async def send(self, number: int) -> float:
        body = json.dumps(report(number)).encode()
        sent = time.monotonic()
        async with self.session.post(
            f"{self.stack.url}/v1/cad/kcmo/events",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-PST-Signature": signature_header(self.secret, int(time.time()), body),
            },
        ) as answer:
            assert answer.status in (200, 202), await answer.text()
        return sent

    async def sign_in(self, email: str, password: str, key: str) -> str:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(f"{self.stack.url}/console/sign-in") as page:
                html = await page.text()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
            assert csrf, html
            async with browser.post(
                f"{self.stack.url}/console/sign-in",
                data={
                    "csrf_token": csrf.group(1),
                    "email": email,
                    "password": password,
                    "code": totp.code_at(key, datetime.now(UTC)),
                },
                allow_redirects=False,
            ) as answer:
                assert answer.status == 303, await answer.text()
                cookie = answer.cookies["pst_console"].value
        return cookie

    async def on_board(self, count: int, timeout_s: float) -> float:
        connection = await asyncpg.connect(self.stack.database_url.replace("+asyncpg", ""))
        try:
            begun = time.monotonic()
            while time.monotonic() - begun < timeout_s:
                shown = await connection.fetchval(
                    "SELECT count(*) FROM console_incidents WHERE agency = 'kcmo' "
                    "AND closed_at IS NULL AND decided_revision > 0"
                )
                if shown >= count:
                    return time.monotonic() - begun
                await asyncio.sleep(0.2)
        finally:
            await connection.close()
        raise RuntimeError(f"fewer than {count} incidents reached the board in {timeout_s} s")

    async def renders(self, cookie: str, count: int) -> tuple[list[float], int]:
        times, size = [], 0
        headers = {"Cookie": f"pst_console={cookie}"}
        for _ in range(count):
            begun = time.perf_counter()
            async with self.session.get(f"{self.stack.url}/console/board", headers=headers) as page:
                body = await page.read()
                assert page.status == 200, body[:200]
            times.append(time.perf_counter() - begun)
            size = len(body)
        return times, size


async def _watch(
    session: aiohttp.ClientSession,
    url: str,
    cookie: str,
    sent: dict[str, float],
    seen: dict[str, list[float]],
    opened: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    async with session.get(
        url, headers={"Cookie": f"pst_console={cookie}"}, timeout=aiohttp.ClientTimeout(None)
    ) as stream:
        opened.set()
        buffer = b""
        mine: set[str] = set()
        async for chunk in stream.content.iter_any():
            arrived = time.monotonic()
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                text = message.decode(errors="replace")
                for cad, at in list(sent.items()):
                    if cad not in mine and cad in text:
                        mine.add(cad)
                        seen.setdefault(cad, []).append(arrived - at)
            if stop.is_set():
                return


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with pst_up({"PST_WEB_WORKERS": "2"}) as stack:
        stack.import_roster("kcmo", roster("kcmo", args.specialists))
        secret = stack.pst("cad-secret", "rotate", "--agency", "kcmo")
        added = stack.pst(
            "user",
            "add",
            "--agency",
            "kcmo",
            "--role",
            "coordinator",
            "--name",
            "Bench Coordinator",
            "--email",
            "bench@example.org",
        )
        password = PASSWORD.search(added)
        key = SECRET.search(added)
        assert password and key, added
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            bench = Bench(stack, session, secret)
            cookie = await bench.sign_in("bench@example.org", password.group(1), key.group(1))
            for start in range(0, args.incidents, 50):
                await asyncio.gather(
                    *(bench.send(n) for n in range(start, min(start + 50, args.incidents)))
                )
            loaded_s = await bench.on_board(args.incidents, timeout_s=300)
            await asyncio.sleep(2)  # the pages' first moves settle
            render_times, size = await bench.renders(cookie, args.renders)

            sent: dict[str, float] = {}
            seen: dict[str, list[float]] = {}
            stop = asyncio.Event()
            opened = [asyncio.Event() for _ in range(args.boards)]
            watchers = [
                asyncio.create_task(
                    _watch(
                        session,
                        f"{stack.url}/console/board/stream",
                        cookie,
                        sent,
                        seen,
                        opened[n],
                        stop,
                    )
                )
                for n in range(args.boards)
            ]
            await asyncio.gather(*(o.wait() for o in opened))
            await asyncio.sleep(2)
            first = args.incidents
            for number in range(first, first + args.reports):
                sending = asyncio.create_task(bench.send(number))
                sent[f"BOARD-{number:05d}"] = time.monotonic()
                await sending
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)
            stop.set()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
    delays = [d for values in seen.values() for d in values]
    missing = args.reports * args.boards - len(delays)
    ms = [t * 1000 for t in render_times]
    return {
        "bench": "console_board",
        "incidents": args.incidents,
        "specialists": args.specialists,
        "board_bytes": size,
        "load_to_board_s": round(loaded_s, 1),
        "render_ms": {
            "p50": round(percentile(ms, 0.5), 1),
            "p95": round(percentile(ms, 0.95), 1),
            "p99": round(percentile(ms, 0.99), 1),
            "target_p99": 200,
        },
        "report_to_row_on_boards_ms": {
            "boards": args.boards,
            "reports": args.reports,
            "missed": missing,
            "p50": round(percentile(delays, 0.5) * 1000, 1) if delays else None,
            "p95": round(percentile(delays, 0.95) * 1000, 1) if delays else None,
            "p99": round(percentile(delays, 0.99) * 1000, 1) if delays else None,
            "target_p99": 1000,
        },
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--specialists", type=int, default=200)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--reports", type=int, default=30)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
