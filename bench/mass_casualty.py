"""A mass-casualty day: 5,000 incidents in 10 minutes across 20 agencies of 200 specialists.

    .venv/bin/python -m bench.mass_casualty [--agencies 20] [--specialists 200]
                                            [--incidents 5000] [--minutes 10]

Twenty agencies are added the way an agency is added, with data files and no code: a folder of
agency data (the packaged one plus `mc01.toml` ... `mc20.toml`, alternately under kcmo's policy
830 and kck's FOP #4) named by `PST_AGENCY_DATA`. `pst up` runs with it and the Twilio stand-in
(`PST_TWILIO_SENDS_PER_SECOND=1000`); each agency gets a CAD secret and a roster of
`--specialists`, all pageable. Then `--incidents` activating reports (a member killed on duty)
arrive as signed CAD webhooks, evenly over `--minutes`, the agencies in turn.

Afterwards it checks, and prints with the figures: every webhook was accepted; every incident is
stored with its decision; every incident was paged (its SMS at the stand-in); nobody was paged
twice for one incident. Then report → first page p50/p95/p99 and max, the arrival rate held,
and the stack's CPU per incident. Prints one JSON line; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.harness import Stack, cpu_used, machine, percentile, pst_up, roster
from bench.paging_latency import ADDRESS, SERVICE_NUMBER, report
from bench.standin import STANDIN_AUTH_TOKEN, SmsLog, standin
from pst.localstack.ports import free_port
from services.intake.cad_signature import signature_header
from shared.policy import DEFAULT_DATA_DIR

BASES = ("kcmo", "kck")


def agency_data(root: Path, agencies: int) -> tuple[Path, list[str]]:
    """The packaged agency data plus `agencies` more, each a copy of kcmo's or kck's file
    under its own slug and name."""
    data = root / "agency-data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    slugs = []
    for index in range(1, agencies + 1):
        base = BASES[index % 2]
        slug = f"mc{index:02d}"
        text = (data / "agencies" / f"{base}.toml").read_text()
        text = text.replace(f'slug = "{base}"', f'slug = "{slug}"', 1)
        text = text.replace('name = "', f'name = "Bench agency {index:02d}, like ', 1)
        (data / "agencies" / f"{slug}.toml").write_text(text)
        slugs.append(slug)
    return data, slugs


CHECK_SQL = """
SELECT count(*) AS stored,
       count(d.incident_id) AS decided,
       count(*) FILTER (WHERE d.activate) AS activated
FROM incidents i LEFT JOIN activation_decisions d ON d.incident_id = i.id
WHERE i.external_id LIKE 'BENCH-%'
"""


async def run(
    args: argparse.Namespace,
    stack: Stack,
    standin_url: str,
    secrets: dict[str, str],
    slugs: list[str],
) -> dict[str, Any]:
    occurred_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    interval = args.minutes * 60 / args.incidents
    sent_at: dict[int, float] = {}
    refused: list[tuple[int, int]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        sms = SmsLog(session, standin_url, ADDRESS)

        async def send(number: int) -> None:
            agency = slugs[number % len(slugs)]
            body = report(number, occurred_at, agency)
            headers = {
                "Content-Type": "application/json",
                "X-PST-Signature": signature_header(secrets[agency], int(time.time()), body),
            }
            sent_at[number] = time.time()
            async with session.post(
                f"{stack.url}/v1/cad/{agency}/events", data=body, headers=headers
            ) as answer:
                await answer.read()
                if answer.status not in (200, 202):
                    refused.append((number, answer.status))

        numbers = list(range(args.incidents))
        cpu_before = stack.cpu_seconds()
        begun = time.monotonic()
        tasks = []
        for number in numbers:
            delay = begun + number * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(number)))
            if number % 200 == 0:
                await sms.refresh()  # keep up as it goes: no big read at the end
        await asyncio.gather(*tasks)
        arrival_s = time.monotonic() - begun
        paged_in_time = True
        try:
            await sms.wait(numbers, 2, 300)
        except RuntimeError:
            paged_in_time = False
        cpu = cpu_used(cpu_before, stack.cpu_seconds())

    connection = await asyncpg.connect(stack.database_url.replace("+asyncpg", ""))
    try:
        stored = await connection.fetchrow(CHECK_SQL)
    finally:
        await connection.close()
    paged = [n for n in numbers if sms.by_alert.get(n)]
    twice = [n for n in numbers if len(sms.by_alert.get(n, ())) > 2]
    first = [min(sms.by_alert[n]) - sent_at[n] for n in paged]
    per_agency = Counter(slugs[n % len(slugs)] for n in paged)

    def ms(q: float) -> float:
        return round(percentile(first, q) * 1000, 1)

    checks = {
        "every_webhook_accepted": not refused,
        "every_incident_stored_and_decided": stored["stored"] == stored["decided"] == len(numbers),
        "every_incident_paged": paged_in_time and len(paged) == len(numbers),
        "nobody_paged_twice_for_one_incident": not twice,
    }
    return {
        "bench": "mass_casualty",
        "agencies": len(slugs),
        "specialists_per_agency": args.specialists,
        "incidents": len(numbers),
        "arrival_rate_per_s": round(len(numbers) / arrival_s, 2),
        "checks": checks,
        "refused": refused[:10],
        "stored": dict(stored),
        "paged": len(paged),
        "paged_per_agency_min_max": [min(per_agency.values()), max(per_agency.values())]
        if per_agency
        else None,
        "report_to_first_page_ms": {
            "p50": ms(0.5),
            "p95": ms(0.95),
            "p99": ms(0.99),
            "max": round(max(first) * 1000, 1) if first else None,
        },
        "cpu_ms_per_incident": {
            role: round(seconds * 1000 / len(numbers), 1) for role, seconds in cpu.items()
        },
        "machine": machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agencies", type=int, default=20)
    parser.add_argument("--specialists", type=int, default=200)
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    if not 1 <= args.agencies <= 99:
        parser.error("--agencies: from 1 to 99")
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="pst-mass-") as work,
        standin(f"http://127.0.0.1:{port}") as info,
    ):
        data, slugs = agency_data(Path(work), args.agencies)
        env = {
            "PST_AGENCY_DATA": str(data),
            "PST_TWILIO_ACCOUNT_SID": info["account_sid"],
            "PST_TWILIO_AUTH_TOKEN": STANDIN_AUTH_TOKEN,
            "PST_TWILIO_FROM": SERVICE_NUMBER,
            "PST_TWILIO_API_BASE": info["url"],
            "PST_TWILIO_SENDS_PER_SECOND": "1000",
            "PST_SMS_ACK_TIMEOUT_S": "3600",
            "PST_CALL_ACK_TIMEOUT_S": "3600",
        }
        with pst_up(env, port=port) as stack:
            secrets = {}
            for index, slug in enumerate(slugs, start=1):
                secrets[slug] = stack.pst("cad-secret", "rotate", "--agency", slug)
                stack.import_roster(
                    slug, roster(slug, args.specialists, phone_prefix=f"+1816{500 + index:03d}")
                )
            result = asyncio.run(run(args, stack, info["url"], secrets, slugs))
    print(json.dumps(result))
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
