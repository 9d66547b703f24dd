"""The directory as a PDF for the lodge boards (FOP #4 §A.2): Letter, large type, the day it was
printed (WeasyPrint, as the reports)."""

from __future__ import annotations

from datetime import datetime

from services.console.directory import Directory, long_date
from services.console.web.pages import Pages
from services.reports.documents import render_pdf


def directory_pdf(pages: Pages, directory: Directory, *, printed_at: datetime) -> bytes:
    html = pages.render(
        "directory_print.html",
        directory=directory,
        printed_on=long_date(printed_at, directory.zone),
    )
    return render_pdf(html)


def pdf_name(agency: str) -> str:
    return f"{agency}-peer-support-directory.pdf"
