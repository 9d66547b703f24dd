"""A generated year of incidents, pages, answers and contacts through the console's real
projector into the real PostgreSQL: each quarter's statistics agree with the numbers counted
independently, hide every small count, and are the same after the retention purge."""

from __future__ import annotations

import json
import re
import statistics as stats
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.console.models import BoardIncident, TimelineEntry
from services.intake.models import Incident
from services.reports.periods import Quarter
from services.reports.quarterly import QUARTER, QuarterStatistics
from services.reports.retention import purge_due
from services.reports.statistics import statistics_of
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import DeadLetter
from shared.policy import load_registry
from tests.integration.reports.year import HARMED, Year, generate_year, load_year

REGISTRY = load_registry()
KCMO = REGISTRY.get("kcmo")
QUARTERS = [Quarter(2026, n) for n in (1, 2, 3, 4)]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


async def _all_quarters(sessions: SessionFactory) -> dict[Quarter, QuarterStatistics]:
    async with unit_of_work(sessions) as session:
        return {q: await statistics_of(session, KCMO, q) for q in QUARTERS}


def _check_against(year: Year, quarter: Quarter, got: QuarterStatistics) -> None:
    counts = year.expected.counts
    small = 0
    for group in got.groups:
        for row in group.rows:
            if row.unit != "count":
                continue
            for month in quarter.months:
                true = counts[row.key, month]
                shown = row.values[month]
                if 1 <= true <= 4:
                    assert shown == "<5", (row.key, month, true, shown)
                    small += 1
                elif shown is not None:
                    assert shown == true, (row.key, month, true, shown)
            total = sum(counts[row.key, month] for month in quarter.months)
            shown = row.values[QUARTER]
            if 1 <= total <= 4:
                assert shown == "<5"
            elif shown is not None:
                assert shown == total, (row.key, total, shown)
    assert got.hidden >= small
    # the median time to the first acceptance, where shown, is the true one
    for month in quarter.months:
        shown = got.row("time.first.median").values[month]
        if shown is not None:
            median_s = stats.median(year.expected.first_s[month])
            assert shown == round(median_s / 60, 1)


async def test_a_year_of_statistics_is_right_and_survives_the_purge(
    sessions: SessionFactory,
) -> None:
    year = generate_year(seed=13)
    await load_year(sessions, year)

    before = await _all_quarters(sessions)
    for quarter, got in before.items():
        _check_against(year, quarter, got)
        text = json.dumps(got.as_json())
        assert not UUID.search(text), "an id reached the statistics"
        assert not DAY.search(text), "a day-level date reached the statistics"
        for name in (*HARMED, *year.expected.member_ids):
            assert name not in text
    assert any(got.hidden for got in before.values()), "the generated year has small counts"
    shown_activations = [got.row("activations").values[QUARTER] for got in before.values()]
    assert sum(v for v in shown_activations if isinstance(v, int)) > 100

    async with unit_of_work(sessions) as session:
        session.add(
            DeadLetter(
                consumer="dispatcher",
                topic="pst.incidents",
                partition=0,
                offset=1,
                key=str(year.incidents[0].id),
                value=json.dumps(year.incidents[0].report),
                error="example",
                created_at=datetime(2026, 1, 2, tzinfo=UTC),
            )
        )
        await session.commit()

    # a year and a half later every incident is past its 90 days: its facts are forgotten
    purged = await purge_due(sessions, REGISTRY, datetime(2027, 6, 1, tzinfo=UTC))
    assert {p.agency: p.incidents for p in purged}["kcmo"] == len(year.incidents)

    async with unit_of_work(sessions) as session:
        reports = (await session.scalars(select(Incident.report))).all()
        board = (await session.execute(select(BoardIncident.report, BoardIncident.facts))).all()
        lines = (await session.scalars(select(TimelineEntry.text))).all()
        external = (await session.scalars(select(Incident.external_id))).all()
        dead = (await session.scalars(select(DeadLetter.value))).all()
    stored = json.dumps([list(reports), [list(row) for row in board]], default=str)
    assert HARMED[0] not in stored and "Troost" not in stored
    assert all(report.keys() == {"purged_at"} for report in reports)
    assert lines == [] and set(external) == {None} and dead == []

    after = await _all_quarters(sessions)
    assert {q: s.as_json() for q, s in after.items()} == {q: s.as_json() for q, s in before.items()}

    # a second purge finds nothing more to do
    again = await purge_due(sessions, REGISTRY, datetime(2027, 6, 2, tzinfo=UTC))
    assert all(p.incidents == 0 for p in again)


async def test_an_incident_is_kept_until_its_days_have_passed(sessions: SessionFactory) -> None:
    year = generate_year(seed=5, incidents=30)
    await load_year(sessions, year)
    purged = await purge_due(sessions, REGISTRY, datetime(2026, 1, 2, tzinfo=UTC))
    assert all(p.incidents == 0 for p in purged)
    async with unit_of_work(sessions) as session:
        kept = (await session.scalars(select(Incident.report))).all()
    assert all("summary" in report for report in kept)
