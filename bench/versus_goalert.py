"""Side by side with GoAlert: the same alerts to both, report → first SMS at the same stand-in.

    .venv/bin/python -m bench.versus_goalert [--steady 300] [--rate 20] [--burst 500]
        [--paced 30] [--paced-rate 0.5] [--cycle-times 5s,1ms] [--systems ours,goalert]

One Twilio stand-in (`python -m tests.twilio_standin`) takes every SMS of the run. Ours is
`pst up` (as `bench.paging_latency` runs it: CAD webhooks for kcmo, 40 specialists, two paged
per incident, `PST_TWILIO_SENDS_PER_SECOND=1000` as a short code or Messaging Service allows).
GoAlert v0.34.1 is built through the Go module proxy the first time (`bench.goalert.build`),
runs on a PostgreSQL of its own with `--twilio-base-url` at the stand-in, and is seeded through
its own API with one user per alert, each with an SMS contact method and an immediate rule, on
a service of its own with a one-step escalation policy and a generic integration key
(`bench.goalert.client`). GoAlert runs twice: with its default engine cycle (`5s`) and with the
fastest it allows (`1ms`: any positive duration is accepted, 0 means the default; at 1 ms the
engine runs its cycles back to back).

Each system gets, in order, with its SMS all sent before the next phase:
- warm-up: 5 alerts at 1/s, not measured;
- paced: `--paced` alerts at `--paced-rate`/s, below GoAlert's SMS throttle: its engine's
  latency alone;
- steady: `--steady` alerts at `--rate`/s (300 at 20/s);
- burst: `--burst` alerts sent at once (500).
For each: report → first SMS p50/p95/p99 and max (from sending the request to the stand-in
receiving the SMS), the time from the first request until every alert has its first SMS, and
the CPU per alert of the system and its PostgreSQL (and for ours its Kafka), idle work during
the phase included.

GoAlert throttles SMS in its engine, hard-coded (engine/message/ratelimit.go): at most 5 of one
destination type per 5 s across the instance, so 1 SMS a second, whatever the sending number
could take. At 20 alerts/s and in the burst, its figures are that throttle. Ours sends as fast
as `PST_TWILIO_SENDS_PER_SECOND` allows (default 1, a US long code; 1000 here).

Prints one JSON line, and a table to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.goalert.build import VERSION, goalert_binary
from bench.goalert.client import GoAlertClient
from bench.goalert.server import goalert_up
from bench.harness import machine, percentile, pst_up, roster
from bench.paging_latency import ADDRESS, SERVICE_NUMBER
from bench.paging_latency import Bench as PagingBench
from bench.standin import STANDIN_AUTH_TOKEN, SmsLog, standin
from pst.localstack.ports import free_port

GOALERT_SUMMARY = re.compile(r"Bench alert (\d+)\b")


@dataclass(frozen=True)
class Phase:
    name: str
    alerts: int
    rate: float | None
    """Alerts a second; None: all at once."""
    measured: bool = True


def phases(args: argparse.Namespace) -> list[Phase]:
    return [
        Phase("warm-up", 5, 1.0, measured=False),
        Phase("paced", args.paced, args.paced_rate),
        Phase("steady", args.steady, args.rate),
        Phase("burst", args.burst, None),
    ]


Send = Callable[[int], Awaitable[None]]


async def arrive(phase: Phase, numbers: list[int], send: Send) -> dict[int, float]:
    """Send `numbers` as the phase says; when each request left."""
    sent_at: dict[int, float] = {}

    async def one(number: int) -> None:
        sent_at[number] = time.time()
        await send(number)

    if phase.rate is None:
        await asyncio.gather(*(one(n) for n in numbers))
        return sent_at
    begun = time.monotonic()
    tasks = []
    for index, number in enumerate(numbers):
        delay = begun + index / phase.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(number)))
    await asyncio.gather(*tasks)
    return sent_at


async def run_phase(
    phase: Phase,
    numbers: list[int],
    send: Send,
    sms: SmsLog,
    cpu_seconds: Callable[[], float],
    *,
    pages: int,
    timeout_s: float,
) -> dict[str, Any]:
    cpu_before = cpu_seconds()
    sent_at = await arrive(phase, numbers, send)
    await sms.wait(numbers, pages, timeout_s)
    cpu = cpu_seconds() - cpu_before
    first = {n: min(sms.by_alert[n]) for n in numbers}
    latencies = [first[n] - sent_at[n] for n in numbers]
    begun = min(sent_at.values())

    def ms(q: float) -> float:
        return round(percentile(latencies, q) * 1000, 1)

    result = {
        "alerts": len(numbers),
        "rate_per_s": phase.rate,
        "p50_ms": ms(0.5),
        "p95_ms": ms(0.95),
        "p99_ms": ms(0.99),
        "max_ms": round(max(latencies) * 1000, 1),
        "all_first_sms_within_s": round(max(first.values()) - begun, 2),
        "cpu_ms_per_alert": round(cpu * 1000 / len(numbers), 1),
    }
    if pages > 1:
        last = max(max(sms.by_alert[n]) for n in numbers)
        result[f"all_{pages * len(numbers)}_sms_within_s"] = round(last - begun, 2)
    await asyncio.sleep(6)  # past GoAlert's 5-second throttle window, for both alike
    return result


def throttled_timeout(phase: Phase) -> float:
    return 120 + 1.5 * phase.alerts  # GoAlert sends 1 SMS a second


async def measure_ours(
    args: argparse.Namespace, url: str, standin_url: str, secret: str, cpu: Callable[[], float]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        paging = PagingBench(url, standin_url, secret)
        paging.session = session
        sms = SmsLog(session, standin_url, ADDRESS)
        await sms.from_now()
        first = 0
        for phase in phases(args):
            numbers = list(range(first, first + phase.alerts))
            first += phase.alerts
            result = await run_phase(phase, numbers, paging.send, sms, cpu, pages=2, timeout_s=300)
            if phase.measured:
                results[phase.name] = result
    return results


def run_ours(args: argparse.Namespace, standin_info: dict[str, Any], port: int) -> dict[str, Any]:
    env = {
        "PST_TWILIO_ACCOUNT_SID": standin_info["account_sid"],
        "PST_TWILIO_AUTH_TOKEN": STANDIN_AUTH_TOKEN,
        "PST_TWILIO_FROM": SERVICE_NUMBER,
        "PST_TWILIO_API_BASE": standin_info["url"],
        "PST_TWILIO_SENDS_PER_SECOND": "1000",
        "PST_SMS_ACK_TIMEOUT_S": "900",
        "PST_CALL_ACK_TIMEOUT_S": "900",
    }
    with pst_up(env, port=port) as stack:
        secret = stack.pst("cad-secret", "rotate", "--agency", "kcmo")
        stack.import_roster("kcmo", roster("kcmo", 40))

        def cpu() -> float:
            return sum(stack.cpu_seconds().values())

        return asyncio.run(measure_ours(args, stack.url, standin_info["url"], secret, cpu))


async def measure_goalert(
    args: argparse.Namespace, goalert: Any, standin_url: str
) -> dict[str, Any]:
    results: dict[str, Any] = {"engine_cycle_time": goalert.cycle_time}
    plan = phases(args)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        client = GoAlertClient(session, goalert)
        await client.sign_in()
        seeded = time.monotonic()
        keys = await client.seed(sum(p.alerts for p in plan))
        results["seed_s"] = round(time.monotonic() - seeded, 1)
        sms = SmsLog(session, standin_url, GOALERT_SUMMARY)
        await sms.from_now()

        async def send(number: int) -> None:
            await client.alert(keys[number], f"Bench alert {number}", f"bench-{number}")

        first = 0
        for phase in plan:
            numbers = list(range(first, first + phase.alerts))
            first += phase.alerts
            result = await run_phase(
                phase,
                numbers,
                send,
                sms,
                goalert.cpu_seconds,
                pages=1,
                timeout_s=throttled_timeout(phase),
            )
            if phase.measured:
                results[phase.name] = result
    return results


def run_goalert(
    args: argparse.Namespace, standin_info: dict[str, Any], work: Path, cycle_time: str
) -> dict[str, Any]:
    with goalert_up(
        goalert_binary(),
        work,
        twilio_url=standin_info["url"],
        account_sid=standin_info["account_sid"],
        auth_token=STANDIN_AUTH_TOKEN,
        cycle_time=cycle_time,
    ) as goalert:
        return asyncio.run(measure_goalert(args, goalert, standin_info["url"]))


def ratios(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """GoAlert's figure over ours, per phase: how many times slower (or costlier)."""
    keys = ("p50_ms", "p99_ms", "all_first_sms_within_s", "cpu_ms_per_alert")
    return {
        phase: {k: round(theirs[phase][k] / ours[phase][k], 1) for k in keys if ours[phase][k]}
        for phase in ("paced", "steady", "burst")
        if phase in ours and phase in theirs
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| system | phase | p50 / p95 / p99 ms | all first SMS within | CPU ms per alert |",
        "|---|---|---|---|---|",
    ]
    for system, figures in result["systems"].items():
        for phase in ("paced", "steady", "burst"):
            f = figures.get(phase)
            if f:
                lines.append(
                    f"| {system} | {phase} ({f['alerts']}"
                    f"{' at ' + str(f['rate_per_s']) + '/s' if f['rate_per_s'] else ' at once'})"
                    f" | {f['p50_ms']:,} / {f['p95_ms']:,} / {f['p99_ms']:,}"
                    f" | {f['all_first_sms_within_s']} s | {f['cpu_ms_per_alert']} |"
                )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.versus_goalert")
    parser.add_argument("--steady", type=int, default=300, help="alerts in the steady phase")
    parser.add_argument("--rate", type=float, default=20, help="the steady phase's alerts/s")
    parser.add_argument("--burst", type=int, default=500, help="alerts sent at once")
    parser.add_argument("--paced", type=int, default=30, help="alerts below GoAlert's throttle")
    parser.add_argument("--paced-rate", type=float, default=0.5)
    parser.add_argument("--cycle-times", default="5s,1ms", help="GoAlert's --engine-cycle-time")
    parser.add_argument("--systems", default="ours,goalert")
    args = parser.parse_args(argv)
    if args.paced_rate > 1:
        parser.error("--paced-rate: at most 1/s, GoAlert's SMS throttle")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    systems = set(args.systems.split(","))
    result: dict[str, Any] = {"bench": "versus_goalert", "goalert": VERSION, "systems": {}}
    port = free_port()
    with (
        standin(f"http://127.0.0.1:{port}") as info,
        tempfile.TemporaryDirectory(prefix="versus-goalert-") as work,
    ):
        Path(work).chmod(0o755)  # PostgreSQL runs as its own user when we are root
        if "ours" in systems:
            result["systems"]["ours"] = run_ours(args, info, port)
        if "goalert" in systems:
            for cycle in args.cycle_times.split(","):
                label = f"goalert {cycle}" + (" (default)" if cycle == "5s" else "")
                result["systems"][label] = run_goalert(args, info, Path(work), cycle)
    ours = result["systems"].get("ours")
    if ours:
        result["ratios"] = {
            name: ratios(ours, figures)
            for name, figures in result["systems"].items()
            if name != "ours"
        }
    result["machine"] = machine()
    print(json.dumps(result))
    print(table(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
