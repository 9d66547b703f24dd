"""The quarterly report over a year of a large agency: 5,000 incidents, 200 specialists.

    .venv/bin/python -m bench.quarterly_report [--incidents 5000] [--runs 5]

Starts its own PostgreSQL (embedded, as the tests do), migrates it, and loads a generated year
(`tests/integration/reports/year.py`: incidents with their pages, answers, call-outs and logged
contacts) through the console's real projector. Then, for each quarter, times:
- `facts_read`: reading the quarter's facts from the database;
- `statistics`: that and suppressing the table (what the API and console do);
- `pdf`: the same plus the PDF (WeasyPrint), what `pst report quarterly --format pdf` does
  after connecting.
- `command`: `pst report quarterly --format pdf` once, as a new process (imports and
  WeasyPrint's first page included).
Prints one JSON line with the worst quarter's median and max of `--runs`, the target beside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import machine
from pst.localstack.ports import free_port
from pst.localstack.postgres import LocalPostgres
from services.reports.documents import render_html, render_pdf
from services.reports.periods import Quarter
from services.reports.quarterly import quarter_statistics
from services.reports.source import activation_facts, contact_facts
from shared.db.engine import build_engine, build_session_factory
from shared.db.migrate import upgrade_to_head
from shared.db.unit_of_work import unit_of_work
from shared.policy import load_registry
from tests.integration.reports.year import generate_year, load_year

TARGET_S = 2.0


async def measure(url: str, incidents: int, runs: int) -> dict[str, object]:
    agency = load_registry().get("kcmo")
    engine = build_engine(url, pool_size=2)
    sessions = build_session_factory(engine)
    year = generate_year(seed=2026, incidents=incidents, specialists=200)
    started = time.perf_counter()
    await load_year(sessions, year)
    load_s = time.perf_counter() - started
    worst: dict[str, list[float]] = {"statistics": [], "pdf": [], "facts": []}
    try:
        for number in (1, 2, 3, 4):
            quarter = Quarter(2026, number)
            reads, pdfs, facts_s = [], [], []
            for _ in range(runs):
                started = time.perf_counter()
                async with unit_of_work(sessions) as session:
                    activations = await activation_facts(session, agency, quarter)
                    contacts = await contact_facts(session, agency, quarter)
                facts_s.append(time.perf_counter() - started)
                got = quarter_statistics(agency, quarter, activations, contacts)
                reads.append(time.perf_counter() - started)
                html = render_html(got, made_at=datetime.now(UTC), zone=agency.time_zone)
                render_pdf(html)
                pdfs.append(time.perf_counter() - started)
            if not worst["pdf"] or statistics.median(pdfs) > statistics.median(worst["pdf"]):
                worst = {"statistics": reads, "pdf": pdfs, "facts": facts_s}
    finally:
        await engine.dispose()
    return {
        "bench": "quarterly_report",
        "incidents": incidents,
        "events": len(year.events),
        "load_s": round(load_s, 1),
        "facts_read_median_s": round(statistics.median(worst["facts"]), 3),
        "statistics_median_s": round(statistics.median(worst["statistics"]), 3),
        "statistics_max_s": round(max(worst["statistics"]), 3),
        "pdf_median_s": round(statistics.median(worst["pdf"]), 3),
        "pdf_max_s": round(max(worst["pdf"]), 3),
        "target_s": TARGET_S,
        "machine": machine(),
    }


def command_seconds(url: str, folder: Path) -> float:
    """`pst report quarterly --format pdf` end to end, as an operator runs it: a new process,
    its imports and WeasyPrint's first page included."""
    env = {**os.environ, "PST_DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pst.cli",
            "report",
            "quarterly",
            "--agency",
            "kcmo",
            "--quarter",
            "2026Q4",
            "--format",
            "pdf",
            "--out",
            str(folder / "q.pdf"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pst-bench-pg-") as folder:
        postgres = LocalPostgres(Path(folder) / "data", free_port())
        postgres.start()
        try:
            postgres.create_database("bench")
            upgrade_to_head(postgres.url("bench"))
            result = asyncio.run(measure(postgres.url("bench"), args.incidents, args.runs))
            result["command_s"] = command_seconds(postgres.url("bench"), Path(folder))
            print(json.dumps(result))
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
