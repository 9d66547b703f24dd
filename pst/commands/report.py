"""`pst report quarterly`: the quarter's anonymous statistics as a PDF or CSV, with the manager's
overtime and expenses when `--overtime` is given (CONTRACT §8)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands.registry import agencies
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.reports.documents import render_csv, render_html, render_pdf
from services.reports.overtime import OvertimeReport, overtime_report
from services.reports.periods import BadQuarter, Quarter
from services.reports.quarterly import QuarterStatistics
from services.reports.statistics import statistics_of
from shared.policy.model import AgencyConfig


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="reports for the team's manager and chief")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    quarterly = kinds.add_parser(
        "quarterly", help="a quarter's anonymous statistics (and, with --overtime, names)"
    )
    quarterly.add_argument("--agency", required=True)
    quarterly.add_argument("--quarter", required=True, help="YYYYQn, e.g. 2026Q4")
    quarterly.add_argument("--format", required=True, choices=("pdf", "csv"))
    quarterly.add_argument("--out", required=True, type=Path, help="the file to write")
    quarterly.add_argument(
        "--overtime",
        action="store_true",
        help="add the overtime call-outs by specialist and the expenses (the manager's copy)",
    )
    quarterly.set_defaults(run=run)


@dataclass(frozen=True, slots=True)
class _Read:
    statistics: QuarterStatistics
    overtime: OvertimeReport | None


def run(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry:
        return fail("report", f"no agency {args.agency!r} (known: {', '.join(registry.slugs)})")
    agency: AgencyConfig = registry.get(args.agency)
    try:
        quarter = Quarter.parse(args.quarter)
    except BadQuarter as error:
        return fail("report", str(error))
    out: Path = args.out
    if out.is_dir() or not out.parent.is_dir():
        return fail("report", f"--out {out}: give a file in an existing folder")

    async def read(session: AsyncSession) -> _Read:
        statistics = await statistics_of(session, agency, quarter)
        overtime = await overtime_report(session, agency, quarter) if args.overtime else None
        return _Read(statistics, overtime)

    try:
        got = in_one_transaction(read)
    except NoDatabase as error:
        return fail("report", str(error))
    if args.format == "csv":
        content = render_csv(got.statistics, got.overtime).encode()
    else:
        html = render_html(
            got.statistics, made_at=datetime.now(UTC), overtime=got.overtime, zone=agency.time_zone
        )
        content = render_pdf(html)
    _write_whole(out, content)
    names = " It names specialists: give it only to payroll." if args.overtime else ""
    print(f"pst report: wrote {out} ({len(content):,} bytes).{names}", file=sys.stderr)
    return 0


def _write_whole(path: Path, content: bytes) -> None:
    """Write a new file beside `path`, then rename it: a reader never sees half a report."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
