"""Intake throughput: the highest sustained rate of accepted reports with p99 under 100 ms.

    .venv/bin/python -m bench.intake_throughput [--rates 250,500,...] [--seconds 8]
                                                [--activating-share 1.0]

Runs `pst up` (its own PostgreSQL, Kafka and services), then sends bearer-token reports at each
rate in turn, open-loop (requests start on schedule whether or not earlier ones finished), each
a new incident. By default every report activates (a line-of-duty death: the dispatcher pages
two specialists for each); `--activating-share 0.1` makes nine in ten a routine report that
matches no criterion (a pursuit that hurt nobody), as most of a CAD feed is.

Prints one JSON line: per step the achieved rate, latency percentiles and the CPU each part of
the stack spent per accepted report (the web processes, the dispatcher and notifier that handle
every report downstream, Kafka, PostgreSQL, and this load generator: on a small machine they
all share the cores), and the best step that held p99 under 100 ms with every report accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bench.harness import Stack, cpu_used, machine, percentile, pst_up, roster


def report(number: int, occurred_at: str, *, activating: bool = True) -> dict[str, Any]:
    if activating:
        event, persons = "line_of_duty_death", [{"kind": "member", "outcome": "death"}]
    else:
        event, persons = "vehicle_pursuit", [{"kind": "member", "outcome": "none"}]
    return {
        "agency": "kcmo",
        "external_id": f"TP-{number:09d}",
        "occurred_at": occurred_at,
        "event": event,
        "persons": [person | {"member_id": f"X{number}"} for person in persons],
        "location": {"lat": 39.0997, "lon": -94.5786},
        **({} if activating else {"pursuit": True}),
    }


def activates(number: int, share: float) -> bool:
    """Whether report `number` is an activating one, spread evenly at `share` of them."""
    return int((number + 1) * share) > int(number * share)


async def step(
    stack: Stack, token: str, rate: int, seconds: float, first: int, share: float = 1.0
) -> dict[str, Any]:
    cpu_before, load_before = stack.cpu_seconds(), time.process_time()
    result = await _send_at(stack.url, token, rate, seconds, first, share)
    cpu = cpu_used(cpu_before, stack.cpu_seconds()) | {
        "load generator": time.process_time() - load_before
    }
    accepted = max(1, result["statuses"].get("202", 0))
    result["cpu_ms_per_report"] = {
        role: round(seconds * 1000 / accepted, 2) for role, seconds in cpu.items()
    }
    return result


async def _send_at(
    url: str, token: str, rate: int, seconds: float, first: int, share: float = 1.0
) -> dict[str, Any]:
    occurred_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    bodies = [
        json.dumps(report(n, occurred_at, activating=activates(n, share))).encode()
        for n in range(first, first + int(rate * seconds))
    ]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: bytes) -> None:
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/v1/incidents", data=body, headers=headers) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
            except aiohttp.ClientError:
                statuses[0] = statuses.get(0, 0) + 1
            latencies.append(time.perf_counter() - started)

        begun = time.perf_counter()
        tasks = []
        for n, body in enumerate(bodies):
            delay = begun + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(body)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begun
    accepted = statuses.get(202, 0)
    return {
        "target_per_s": rate,
        "achieved_per_s": round(accepted / elapsed, 1),
        "sent": len(bodies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
    }


async def run(
    stack: Stack, token: str, rates: list[int], seconds: float, share: float
) -> list[dict[str, Any]]:
    results = []
    first = 0
    await _send_at(stack.url, token, 50, 2, 10_000_000, share)  # warm up connections and caches
    for rate in rates:
        results.append(await step(stack, token, rate, seconds, first, share))
        first += int(rate * seconds)
        await asyncio.sleep(2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="250,500,750,1000,1500,2000")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument(
        "--activating-share",
        type=float,
        default=1.0,
        help="the share of reports that activate (the rest match no criterion)",
    )
    args = parser.parse_args()
    if not 0 <= args.activating_share <= 1:
        parser.error("--activating-share is between 0 and 1")
    rates = [int(r) for r in args.rates.split(",")]
    with pst_up({"PST_TOKEN_RATE_PER_S": "100000"}) as stack:
        token = stack.pst(
            "token", "issue", "--agency", "kcmo", "--role", "commander", "--name", "bench"
        )
        stack.import_roster("kcmo", roster("kcmo", 20))
        steps = asyncio.run(run(stack, token, rates, args.seconds, args.activating_share))
    held = [s for s in steps if s["p99_ms"] < 100 and set(s["statuses"]) == {"202"}]
    best = max(held, key=lambda s: s["achieved_per_s"]) if held else None
    print(
        json.dumps(
            {
                "bench": "intake_throughput",
                "best_sustained_per_s": best["achieved_per_s"] if best else 0,
                "target_per_s": 1500,
                "activating_share": args.activating_share,
                "steps": steps,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
