"""Report → first page, reply → next page, and a burst: the paging path's speed on `pst up`.

    .venv/bin/python -m bench.paging_latency [--rate 20] [--seconds 15] [--replies 40]
                                             [--burst 500]

Runs the Twilio stand-in (`python -m tests.twilio_standin`) and `pst up` wired to it, provisions
a kcmo roster, a CAD secret and a coordinator through the `pst` commands, then:
1. steady: activating incidents as signed CAD webhooks at `--rate` a second; for each, the time
   from sending the webhook to the stand-in receiving the first SMS request for it;
2. replies: for `--replies` of those incidents, "NO <code>" from a paged specialist (a signed
   inbound SMS posted by the stand-in) and the time until the next specialist's SMS request;
3. burst: `--burst` activating incidents sent within one second; the time until every one of
   them has its two SMS requests.
Prints one JSON line with percentiles and the targets beside them, the time each hop took (from
the services' own timestamps), and the CPU each part of the stack spent per incident in the
steady and the burst phases: the path is CPU-bound on a small machine, and this says where.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from bench.harness import Stack, cpu_used, machine, percentile, pst_up, roster
from pst.localstack.ports import free_port
from services.intake.cad_signature import signature_header

ADDRESS = re.compile(r"Bench (\d+) Main St")
CODE = re.compile(r"YES (\d{4})")
SERVICE_NUMBER = "+18165550100"


def report(number: int, occurred_at: str, agency: str = "kcmo") -> bytes:
    return json.dumps(
        {
            "agency": agency,
            "external_id": f"BENCH-{number:07d}",
            "occurred_at": occurred_at,
            "event": "line_of_duty_death",
            "persons": [{"kind": "member", "member_id": f"V{number}", "outcome": "death"}],
            "location": {"lat": 39.0997, "lon": -94.5786, "address": f"Bench {number} Main St"},
        }
    ).encode()


class Bench:
    def __init__(self, url: str, standin: str, secret: str) -> None:
        self.url = url
        self.standin = standin
        self.secret = secret
        self.sent_at: dict[int, float] = {}
        self.occurred_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
        self.session: aiohttp.ClientSession
        self.requests_seen = 0
        self.by_incident: dict[int, list[dict[str, Any]]] = defaultdict(list)

    async def send(self, number: int) -> None:
        body = report(number, self.occurred_at)
        headers = {
            "Content-Type": "application/json",
            "X-PST-Signature": signature_header(self.secret, int(time.time()), body),
        }
        self.sent_at[number] = time.time()
        async with self.session.post(
            f"{self.url}/v1/cad/kcmo/events", data=body, headers=headers
        ) as answer:
            await answer.read()
            if answer.status not in (200, 202):
                raise RuntimeError(f"report {number}: {answer.status}")

    async def sms_requests(self) -> dict[int, list[dict[str, Any]]]:
        """The SMS requests the stand-in has had so far, by incident number. Only the ones new
        since the last look are fetched: the bench must not load the machine it measures."""
        async with self.session.get(
            f"{self.standin}/_standin/requests", params={"since": str(self.requests_seen)}
        ) as answer:
            requests = await answer.json()
        self.requests_seen += len(requests)
        for request in requests:
            if request["resource"] != "Messages":
                continue
            found = ADDRESS.search(request["form"].get("Body", ""))
            if found:
                request["at_s"] = datetime.fromisoformat(request["at"]).timestamp()
                self.by_incident[int(found.group(1))].append(request)
        return self.by_incident

    async def wait_for_pages(
        self, numbers: list[int], pages: int, timeout_s: float
    ) -> dict[int, list[dict[str, Any]]]:
        deadline = time.monotonic() + timeout_s
        while True:
            seen = await self.sms_requests()
            if all(len(seen.get(n, [])) >= pages for n in numbers):
                return seen
            if time.monotonic() > deadline:
                missing = [n for n in numbers if len(seen.get(n, [])) < pages]
                raise RuntimeError(f"{len(missing)} incidents not paged in time: {missing[:10]}")
            await asyncio.sleep(0.2)

    async def steady(self, rate: float, seconds: float, first: int) -> list[int]:
        numbers = list(range(first, first + int(rate * seconds)))
        begun = time.monotonic()
        tasks = []
        for index, number in enumerate(numbers):
            delay = begun + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(number)))
        await asyncio.gather(*tasks)
        return numbers

    async def replies(self, numbers: list[int], rate: float) -> list[float]:
        """Decline the first page of each incident; the time until the next SMS request."""
        seen = await self.sms_requests()
        latencies = []
        for number in numbers:
            first = min(seen[number], key=lambda r: r["at_s"])
            code = CODE.search(first["form"]["Body"])
            assert code, first["form"]["Body"]
            before = len(seen[number])
            replied = time.time()
            async with self.session.post(
                f"{self.standin}/_standin/inbound",
                json={"from": first["form"]["To"], "body": f"NO {code.group(1)}"},
            ) as answer:
                await answer.read()
            deadline = time.monotonic() + 20
            while True:
                now_seen = await self.sms_requests()
                if len(now_seen[number]) > before:
                    latencies.append(max(r["at_s"] for r in now_seen[number]) - replied)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no next page for incident {number}")
                await asyncio.sleep(0.02)
            await asyncio.sleep(1 / rate)
        return latencies


STAGES_SQL = """
SELECT i.external_id,
       extract(epoch FROM i.received_at) AS received,
       extract(epoch FROM o.sent_at) AS published,
       extract(epoch FROM d.decided_at) AS decided,
       extract(epoch FROM (SELECT min(r.created_at) FROM outbox_messages r
                           WHERE r.key = i.id::text AND r.event_type = 'page.requested'))
           AS page_written,
       extract(epoch FROM (SELECT min(r.sent_at) FROM outbox_messages r
                           WHERE r.key = i.id::text AND r.event_type = 'page.requested'))
           AS page_published,
       extract(epoch FROM (SELECT min(p.created_at) FROM notifier_pages p
                           WHERE p.incident_id = i.id AND p.channel = 'sms')) AS queued,
       extract(epoch FROM (SELECT min(p.sent_at) FROM notifier_pages p
                           WHERE p.incident_id = i.id AND p.channel = 'sms')) AS sent
FROM incidents i
JOIN activation_decisions d ON d.incident_id = i.id
JOIN outbox_messages o ON o.key = i.id::text AND o.event_type = 'incident.reported'
WHERE i.external_id = ANY($1::text[])
"""


async def stages(
    database_url: str, numbers: list[int], sent_at: dict[int, float]
) -> dict[str, Any]:
    """Where the time goes, from the services' own timestamps: median and p99 of each hop."""

    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch(STAGES_SQL, [f"BENCH-{n:07d}" for n in numbers])
    finally:
        await connection.close()
    hops: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        number = int(row["external_id"].split("-")[1])
        points = [
            ("webhook_to_stored", sent_at[number], row["received"]),
            ("stored_to_published", row["received"], row["published"]),
            ("published_to_decided", row["published"], row["decided"]),
            ("decided_to_page_written", row["decided"], row["page_written"]),
            ("page_written_to_published", row["page_written"], row["page_published"]),
            ("page_published_to_queued", row["page_published"], row["queued"]),
            ("queued_to_sent", row["queued"], row["sent"]),
        ]
        for name, start, end in points:
            if start is not None and end is not None:
                hops[name].append(float(end) - float(start))
    return {
        name: {
            "p50_ms": round(percentile(v, 0.5) * 1000, 1),
            "p99_ms": round(percentile(v, 0.99) * 1000, 1),
        }
        for name, v in hops.items()
    }


async def run(args: argparse.Namespace, stack: Stack, standin: str, secret: str) -> dict[str, Any]:
    bench = Bench(stack.url, standin, secret)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        bench.session = session
        await bench.steady(5, 2, 9_000_000)  # warm-up, not measured
        await bench.wait_for_pages(list(range(9_000_000, 9_000_010)), 2, 60)

        cpu_before = stack.cpu_seconds()
        numbers = await bench.steady(args.rate, args.seconds, 0)
        seen = await bench.wait_for_pages(numbers, 2, 120)
        cpu_steady = cpu_used(cpu_before, stack.cpu_seconds())
        first_page = [min(r["at_s"] for r in seen[n]) - bench.sent_at[n] for n in numbers]
        breakdown = await stages(stack.database_url, numbers, bench.sent_at)

        declined = await bench.replies(numbers[: args.replies], 5)

        burst_numbers = list(range(1_000_000, 1_000_000 + args.burst))
        cpu_before = stack.cpu_seconds()
        begun = time.time()
        await asyncio.gather(*[bench.send(n) for n in burst_numbers])
        sent_within = time.time() - begun
        seen = await bench.wait_for_pages(burst_numbers, 2, 300)
        burst_done = max(r["at_s"] for n in burst_numbers for r in seen[n]) - begun
        cpu_burst = cpu_used(cpu_before, stack.cpu_seconds())

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 1)

    return {
        "bench": "paging_latency",
        "report_to_first_page_ms": {
            "incidents": len(first_page),
            "rate_per_s": args.rate,
            "p50": ms(first_page, 0.5),
            "p95": ms(first_page, 0.95),
            "p99": ms(first_page, 0.99),
            "target_p99": 150,
            "stages": breakdown,
            "cpu_ms_per_incident": per_incident(cpu_steady, len(numbers)),
        },
        "reply_to_next_page_ms": {
            "replies": len(declined),
            "p50": ms(declined, 0.5),
            "p95": ms(declined, 0.95),
            "p99": ms(declined, 0.99),
            "target_p99": 200,
        },
        "burst": {
            "incidents": args.burst,
            "sent_within_s": round(sent_within, 2),
            "all_paged_within_s": round(burst_done, 2),
            "target_s": 5,
            "cpu_ms_per_incident": per_incident(cpu_burst, args.burst),
        },
        "machine": machine(),
    }


def per_incident(cpu_seconds: dict[str, float], incidents: int) -> dict[str, float]:
    """Each part's CPU per incident, in ms (idle polling included, so a slow phase costs more)."""
    return {role: round(seconds * 1000 / incidents, 1) for role, seconds in cpu_seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--replies", type=int, default=40)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument(
        "--replicas", type=int, default=None, help="`pst up --replicas N`: N of each service"
    )
    args = parser.parse_args()
    port = free_port()
    standin = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.twilio_standin",
            "--port",
            "0",
            "--callback-base",
            f"http://127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert standin.stdout is not None
        info = json.loads(standin.stdout.readline())
        env = {
            "PST_TWILIO_ACCOUNT_SID": info["account_sid"],
            "PST_TWILIO_AUTH_TOKEN": "standin-auth-token",
            "PST_TWILIO_FROM": SERVICE_NUMBER,
            "PST_TWILIO_API_BASE": info["url"],
            "PST_TWILIO_SENDS_PER_SECOND": "1000",
            "PST_SMS_ACK_TIMEOUT_S": "900",
            "PST_CALL_ACK_TIMEOUT_S": "900",
        }
        up_args = () if args.replicas is None else ("--replicas", str(args.replicas))
        with pst_up(env, port=port, up_args=up_args) as stack:
            secret = stack.pst("cad-secret", "rotate", "--agency", "kcmo")
            stack.import_roster("kcmo", roster("kcmo", 40))
            result = asyncio.run(run(args, stack, info["url"], secret))
    finally:
        standin.terminate()
        standin.wait(timeout=10)
    result["replicas"] = args.replicas
    print(json.dumps(result))


if __name__ == "__main__":
    main()
