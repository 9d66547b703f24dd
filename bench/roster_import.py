"""The roster's writes at the size of the largest roster the API takes (2,000 specialists).

    .venv/bin/python -m bench.roster_import [--members 2000] [--runs 3]

Starts its own PostgreSQL (embedded, as the tests do), migrates it, and times, each `--runs`
times on a fresh database:
- `first_import`: a roster file of N new members (each a `recorded` step and a phone code
  asked for through the outbox), as `pst roster import` does after reading the file;
- `same_again`: the same file again (nothing changes: no step, no code);
- `status_changes`: a tenth of them withdrawn by the file (a step each, with its document);
- `training_import`: two quarterly sessions with every member marked (`pst training import`);
- `roster_pass`: the console's hourly pass (recompute every member's training, tell of
  lapses).
Prints one JSON line with the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from bench.harness import machine
from pst.localstack.ports import free_port
from pst.localstack.postgres import LocalPostgres
from services.console.roster_loop import roster_pass
from services.intake.roster import replace_roster
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.migrate import upgrade_to_head
from shared.db.unit_of_work import unit_of_work
from shared.kafka.topics import Topics
from shared.policy import load_registry
from shared.roster.actor import Actor
from shared.roster.entry import RosterEntryIn
from shared.roster.training_files import ImportedSession, MarkLine
from shared.roster.training_records import Mark
from shared.roster.training_sessions import import_sessions

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
ACTOR = Actor(role="operator", name="bench", via="command")
REGISTRY = load_registry()
KCMO = REGISTRY.get("kcmo")


def roster(members: int, withdrawn: int = 0) -> list[RosterEntryIn]:
    return [
        RosterEntryIn(
            member_id=f"B{number:05d}",
            name=f"Specialist {number}",
            agency="kcmo",
            phone=f"+1816{number:07d}",
            status="withdrawn" if number < withdrawn else "active",
            status_document="notice on file" if number < withdrawn else None,
            on_duty=False,
            on_call=number % 2 == 0,
            under_investigation=False,
            languages=["en"],
        )
        for number in range(members)
    ]


def training(members: int) -> list[ImportedSession]:
    return [
        ImportedSession(
            held_on=held_on,
            title=title,
            topics=("Critical incident stress",),
            line=2,
            marks=[
                MarkLine(line=number + 2, mark=Mark(f"B{number:05d}", "attended"))
                for number in range(members)
            ],
        )
        for held_on, title in ((date(2026, 7, 16), "Q3 training"), (date(2026, 10, 15), "Q4"))
    ]


async def timed(sessions: SessionFactory, work: Callable[..., Awaitable[object]]) -> float:
    started = time.perf_counter()
    async with unit_of_work(sessions) as session:
        await work(session)
        await session.commit()
    return time.perf_counter() - started


async def one_run(url: str, members: int) -> dict[str, float]:
    engine = build_engine(url, pool_size=2)
    sessions = build_session_factory(engine)
    topics = Topics()
    every, tenth = roster(members), roster(members, withdrawn=members // 10)

    def replace(entries: list[RosterEntryIn]) -> Callable[..., Awaitable[object]]:
        return lambda session: replace_roster(
            session,
            agency=KCMO,
            entries=entries,
            now=NOW,
            actor=ACTOR,
            topics=topics,
            source="bench roster file",
        )

    try:
        found = {
            "first_import": await timed(sessions, replace(every)),
            "same_again": await timed(sessions, replace(every)),
            "status_changes": await timed(sessions, replace(tenth)),
            "training_import": await timed(
                sessions,
                lambda session: import_sessions(
                    session, KCMO, training(members), actor=ACTOR, now=NOW
                ),
            ),
        }
        started = time.perf_counter()
        await roster_pass(sessions, REGISTRY, topics, ManualClock(NOW))
        found["roster_pass"] = time.perf_counter() - started
    finally:
        await engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="pst-bench-pg-") as folder:
        postgres = LocalPostgres(Path(folder) / "data", free_port())
        postgres.start()
        try:
            for run in range(args.runs):
                name = f"bench{run}"
                postgres.create_database(name)
                upgrade_to_head(postgres.url(name))
                runs.append(asyncio.run(one_run(postgres.url(name), args.members)))
        finally:
            postgres.stop()
    print(
        json.dumps(
            {
                "bench": "roster_import",
                "members": args.members,
                **{
                    f"{key}_median_s": round(statistics.median(run[key] for run in runs), 3)
                    for key in runs[0]
                },
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
