"""The quarterly report as a file: CSV for a spreadsheet, PDF that prints well (WeasyPrint).

The statistics part is the same table the console and the API show, suppressed once; the
overtime part (names) is added only when the manager asks for it (`--overtime`).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.reports.charts import charts
from services.reports.overtime import OvertimeReport
from services.reports.quarterly import QuarterStatistics, month_columns


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def report_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("services.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.filters["dollars"] = dollars
    return environment


def statistics_context(statistics: QuarterStatistics) -> dict[str, Any]:
    """What `_statistics.html` needs."""
    return {"stats": statistics, "charts": charts(statistics), "columns": month_columns(statistics)}


def render_csv(statistics: QuarterStatistics, overtime: OvertimeReport | None = None) -> str:
    """One line per measure: group, measure, section, unit, each month, the quarter. Small counts
    are "<5", hidden ones empty. The overtime lines follow, when asked for."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = month_columns(statistics)
    writer.writerow(["group", "measure", "section", "unit", *(heading for _, heading in columns)])
    for group in statistics.groups:
        for row in group.rows:
            writer.writerow(
                [
                    group.title,
                    row.label,
                    row.section or "",
                    row.unit,
                    *("" if row.values[key] is None else row.values[key] for key, _ in columns),
                ]
            )
    for note in statistics.notes:
        writer.writerow(["note", note, "", "", *("" for _ in columns)])
    if overtime is not None:
        writer.writerow([])
        writer.writerow(["overtime", "specialist", "member_id", "accepted", "ended", "hours"])
        for line in overtime.lines:
            writer.writerow(
                [
                    "overtime",
                    line.name,
                    line.member_id,
                    line.accepted_at.isoformat(),
                    line.ended_at.isoformat() if line.ended_at else "",
                    "" if line.hours_logged is None else str(line.hours_logged),
                ]
            )
        writer.writerow([])
        writer.writerow(["expense", "date", "category", "note", "recorded_by", "amount"])
        for expense in overtime.expenses:
            writer.writerow(
                [
                    "expense",
                    expense.spent_on.isoformat(),
                    expense.category,
                    expense.note,
                    expense.recorded_by,
                    f"{expense.amount_cents / 100:.2f}",
                ]
            )
        writer.writerow(["expense", "total", "", "", "", f"{overtime.expenses_cents / 100:.2f}"])
    return out.getvalue()


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def render_html(
    statistics: QuarterStatistics,
    *,
    made_at: datetime,
    zone: str,
    overtime: OvertimeReport | None = None,
) -> str:
    """The report as one HTML document, its print styles inside (for `render_pdf`)."""
    environment = report_environment()
    environment.filters["local"] = _local
    return environment.get_template("quarterly_report.html").render(
        **statistics_context(statistics),
        overtime=overtime,
        zone=zone,
        made_on=made_at.astimezone(ZoneInfo(zone)).strftime("%B %Y"),
    )


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF (WeasyPrint is imported here: only report commands need it)."""
    from weasyprint import HTML

    pdf = HTML(string=html).write_pdf()
    if pdf is None:  # pragma: no cover - write_pdf returns bytes when given no target
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
