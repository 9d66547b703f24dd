"""`pst report quarterly` against the real PostgreSQL: the PDF (WeasyPrint) turned into pictures
with poppler's pdftoppm, kept in test-artifacts/reports/ to be looked at; its text and the CSV
name nobody unless the manager's `--overtime` copy is asked for."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from shared.db.engine import SessionFactory, build_engine, build_session_factory
from tests.integration.reports.year import HARMED, NAMES, generate_year, load_year

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "reports"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


def _pst(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PST_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pictures(pdf: Path, prefix: Path) -> None:
    """The PDF's pages as PNG pictures, `prefix`-1.png and on."""
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(prefix)], check=True)


def _quarterly(
    database_url: str, quarter: str, fmt: str, out: Path | str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`pst report quarterly` for kcmo."""
    args = ("--agency", "kcmo", "--quarter", quarter, "--format", fmt, "--out", str(out))
    return _pst(database_url, "report", "quarterly", *args, *extra)


async def _roster_names(sessions: SessionFactory) -> None:
    from shared.db.unit_of_work import unit_of_work
    from tests.harness.roster_ready import add_ready_entries
    from tests.integration.reports.year import MEMBERS

    async with unit_of_work(sessions) as session:
        await add_ready_entries(
            session,
            agency="kcmo",
            entries=[
                {
                    "agency": "kcmo",
                    "member_id": member,
                    "name": f"{NAMES[index % len(NAMES)]} {index}",
                    "phone": f"+1816555{index:04d}",
                    "status": "active",
                    "on_duty": False,
                    "on_call": True,
                    "under_investigation": False,
                }
                for index, member in enumerate(MEMBERS)
            ],
            now=datetime.now(UTC),
        )
        await session.commit()


async def test_the_quarterly_pdf_prints_and_names_nobody(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    year = generate_year(seed=13)
    await load_year(sessions, year)
    await _roster_names(sessions)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    pdf = ARTIFACTS / "kcmo-2026Q4.pdf"
    done = _quarterly(database_url, "2026Q4", "pdf", str(pdf))
    assert done.returncode == 0, done.stderr
    text = _text_of(pdf)
    assert "Peer support statistics, October to December 2026" in text
    assert "Activations" in text and "Contacts logged" in text and "830 §III.E.1" in text
    for name in (*HARMED, *NAMES, *year.expected.member_ids):
        assert name not in text
    _pictures(pdf, ARTIFACTS / "kcmo-2026Q4")
    pages = sorted(ARTIFACTS.glob("kcmo-2026Q4-*.png"))
    assert pages, "pdftoppm made no page"
    with Image.open(pages[0]) as first:
        darkest, _ = first.convert("L").getextrema()
    assert isinstance(darkest, int) and darkest < 80, "the first page is blank"

    manager = ARTIFACTS / "kcmo-2026Q4-manager.pdf"
    done = _quarterly(database_url, "2026Q4", "pdf", str(manager), "--overtime")
    assert done.returncode == 0, done.stderr
    text = _text_of(manager)
    assert "Overtime, October to December 2026" in text and "830 §III.D.1" in text
    assert any(name in text for name in NAMES), "the manager's copy names the specialists"
    _pictures(manager, ARTIFACTS / "kcmo-2026Q4-manager")


async def test_the_csv_and_bad_arguments(
    sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    year = generate_year(seed=7, incidents=60)
    await load_year(sessions, year)
    out = tmp_path / "q.csv"
    done = _quarterly(database_url, "2026q2", "csv", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["group", "measure", "section", "unit", "April", "May", "June", "Quarter"]
    assert any(row[1] == "Activations" for row in rows)
    assert all(
        cell in ("", "<5") or cell.replace(".", "").isdigit()
        for row in rows[1:]
        if row[0] != "note"
        for cell in row[4:]
    )

    out.write_text("kept")
    for args, says in (
        (("--agency", "nope", "--quarter", "2026Q4"), "no agency 'nope'"),
        (("--agency", "kcmo", "--quarter", "2026Q5"), "is not a quarter"),
        (("--agency", "kcmo", "--quarter", "Q4"), "is not a quarter"),
    ):
        done = _pst(
            database_url, "report", "quarterly", *args, "--format", "csv", "--out", str(out)
        )
        assert done.returncode == 2 and says in done.stderr, done.stderr
    done = _quarterly(database_url, "2026Q4", "csv", str(tmp_path / "missing" / "q.csv"))
    assert done.returncode == 2 and "existing folder" in done.stderr
    assert out.read_text() == "kept", "a refused command changes no file"
