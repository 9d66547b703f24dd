"""How many incident reports a second one core classifies: JSON text → validate → decide.

    .venv/bin/python bench/classify_throughput.py [--reports N] [--min-per-second R]

Prints one line of JSON: {"bench": "classify", "reports": N, "seconds": s, "per_second": r}.
The reports are a deterministic mix of both agencies, every event, 0-6 persons, with and without
locations in and around the Kansas City area, so every status and most criteria come up.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.incident_report import Event, IncidentReport, Outcome
from shared.policy import decide, load_registry

FLAGS = (
    "department_vehicle",
    "pursuit",
    "weapon_discharged",
    "tactical_team_deployed",
    "requested_by_commander",
    "directed_by_chief",
    "consent_given",
)


def sample_report(rng: random.Random, occurred_at: str) -> dict[str, Any]:
    report: dict[str, Any] = {
        "agency": rng.choice(["kcmo", "kck"]),
        "external_id": f"CAD-{rng.randrange(10**8):08d}",
        "occurred_at": occurred_at,
        "event": rng.choice(list(Event)).value,
        "persons": [sample_person(rng) for _ in range(rng.randrange(7))],
        "additional_specialists": rng.choice([0, 0, 0, 1, 2]),
    }
    for flag in FLAGS:
        if rng.random() < 0.15:
            report[flag] = True
    if rng.random() < 0.8:
        report["location"] = {
            "lat": round(rng.uniform(37.5, 40.5), 5),
            "lon": round(rng.uniform(-96.5, -92.5), 5),
            "address": "Dispatch address",
        }
    if rng.random() < 0.5:
        report["summary"] = "Short operational description of the incident."
    return report


def sample_person(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["member", "member", "public", "family"])
    person: dict[str, Any] = {"kind": kind, "outcome": rng.choice(list(Outcome)).value}
    if kind != "public":
        person["member_id"] = f"E{rng.randrange(1000, 9999)}"
    if kind == "member":
        person["on_duty"] = rng.random() < 0.8
    return person


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="classify throughput on one core")
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--min-per-second", type=float, default=0.0, help="exit 1 below this")
    parser.add_argument("--seed", type=int, default=830)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    occurred_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    texts = [json.dumps(sample_report(rng, occurred_at)).encode() for _ in range(args.reports)]
    registry = load_registry()
    statuses: Counter[str] = Counter()

    started = time.perf_counter()
    for text in texts:
        report = IncidentReport.model_validate_json(text)
        decision = decide(report, registry.get(report.agency))
        statuses[decision.status] += 1
    seconds = time.perf_counter() - started

    per_second = args.reports / seconds
    summary = {
        "bench": "classify",
        "reports": args.reports,
        "seconds": round(seconds, 3),
        "per_second": round(per_second),
        "statuses": dict(sorted(statuses.items())),
    }
    print(json.dumps(summary))
    return 1 if per_second < args.min_per_second else 0


if __name__ == "__main__":
    sys.exit(main())
