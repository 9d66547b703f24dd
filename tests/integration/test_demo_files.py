"""The README's files for moving from a spreadsheet (`docs/demo/`): each agency's roster and
past training attendance import as the README says, with `pst roster import` and
`pst training import`, and give the roster the quick start describes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.console.eligibility import roster_with_eligibility
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.roster import phones
from shared.roster.models import RosterEntry

DEMO = Path(__file__).resolve().parents[2] / "docs" / "demo"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


def _pst(database_url: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"PST_DATABASE_URL": database_url},
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


@pytest.mark.parametrize(
    ("agency", "pageable", "why_not"),
    [
        (
            "kcmo",
            ["S101", "S102", "S103", "S104"],
            {"S105": "training not current", "S106": "not active (inactive)"},
        ),
        ("kck", ["K201", "K202", "K203"], {"K204": "under investigation"}),
    ],
)
async def test_the_demo_roster_and_training_import_as_the_readme_says(
    database_url: str,
    sessions: SessionFactory,
    clock: ManualClock,
    agency: str,
    pageable: list[str],
    why_not: dict[str, str],
) -> None:
    roster = _pst(
        database_url, "roster", "import", "--agency", agency, str(DEMO / f"{agency}-roster.csv")
    )
    assert roster["phones_to_confirm"] == roster["added"]
    first = _pst(
        database_url, "training", "import", "--agency", agency, str(DEMO / f"{agency}-training.csv")
    )
    again = _pst(
        database_url, "training", "import", "--agency", agency, str(DEMO / f"{agency}-training.csv")
    )
    assert first["sessions_added"] == again["sessions_updated"] and again["sessions_added"] == 0

    async with unit_of_work(sessions) as session:  # every phone answers its code
        for member_id, phone in (
            await session.execute(select(RosterEntry.member_id, RosterEntry.phone))
        ).all():
            await phones.mark_confirmed(
                session, agency=agency, member_id=member_id, phone=phone, now=clock.now()
            )
        await session.commit()
        lines = await roster_with_eligibility(session, agency, now=clock.now())
    assert sorted(line.member_id for line in lines if line.why_not is None) == pageable
    assert {line.member_id: line.why_not for line in lines if line.why_not} == why_not
