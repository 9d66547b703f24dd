"""The reports in the console: the quarter's anonymous statistics (chief, manager,
coordinators), with CSV and PDF; the manager's overtime and expenses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.web.forms import checked_form, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import page
from services.console.web.security import require_role, signed_in
from services.reports.documents import render_csv, render_html, render_pdf, statistics_context
from services.reports.models import EXPENSE_CATEGORIES
from services.reports.overtime import BadExpense, overtime_report, parse_amount, record_expense
from services.reports.periods import BadQuarter, Quarter
from services.reports.statistics import READERS, statistics_of
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput
from shared.policy import Role
from shared.policy.model import AgencyConfig

MANAGERS = frozenset({Role.MANAGER})
QUARTERS_OFFERED = 8


def _quarter(ctx: ConsoleContext, user: SignedIn, text: str | None) -> Quarter:
    """The quarter asked for, or the current one in the agency's time zone."""
    if text:
        try:
            return Quarter.parse(text)
        except BadQuarter as error:
            raise InvalidInput(f"quarter: {error}") from None
    return Quarter.of(ctx.runtime.clock.now(), ctx.registry.get(user.agency).zone)


def _offered(ctx: ConsoleContext, user: SignedIn) -> list[Quarter]:
    """The current quarter and the ones before it, newest first."""
    newest = Quarter.of(ctx.runtime.clock.now(), ctx.registry.get(user.agency).zone)
    quarters = [newest]
    while len(quarters) < QUARTERS_OFFERED:
        quarters.append(quarters[-1].previous())
    return quarters


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@dataclass(frozen=True, slots=True)
class _Reading:
    ctx: ConsoleContext
    session: AsyncSession
    user: SignedIn
    quarter: Quarter
    agency: AgencyConfig


@asynccontextmanager
async def _reading(
    request: Request, roles: Collection[str], what: str, action: str
) -> AsyncIterator[_Reading]:
    """A signed-in person allowed to `what` reads a quarter (the one asked for, or the current
    one): audited as `action`, committed when the caller is done."""
    ctx = console_context(request)
    async with signed_in(request, ctx.runtime) as (session, user):
        require_role(user, roles, what)
        quarter = _quarter(ctx, user, request.query_params.get("quarter"))
        audit.record_by(
            session,
            user,
            action,
            at=ctx.runtime.clock.now(),
            object_type=action.split(".")[0],
            object_id=str(quarter),
        )
        yield _Reading(ctx, session, user, quarter, ctx.registry.get(user.agency))
        await session.commit()


def report_router() -> APIRouter:
    router = APIRouter()

    @router.get("/statistics", response_class=HTMLResponse)
    async def statistics(request: Request) -> Response:
        async with _reading(request, READERS, "read the statistics", "statistics.read") as got:
            stats = await statistics_of(got.session, got.agency, got.quarter)
            return await page(
                got.ctx,
                got.session,
                got.user,
                "statistics.html",
                current="statistics",
                quarter=got.quarter,
                quarters=_offered(got.ctx, got.user),
                **statistics_context(stats),
            )

    @router.get("/statistics.{extension}")
    async def statistics_file(request: Request, extension: str) -> Response:
        if extension not in ("csv", "pdf"):
            raise InvalidInput("the statistics come as .csv or .pdf")
        action = f"statistics.{extension}"
        async with _reading(request, READERS, "read the statistics", action) as got:
            stats = await statistics_of(got.session, got.agency, got.quarter)
        name = f"{got.agency.slug}-statistics-{got.quarter}.{extension}"
        if extension == "csv":
            return _download(render_csv(stats).encode(), "text/csv; charset=utf-8", name)
        made_at = got.ctx.runtime.clock.now()
        html = render_html(stats, made_at=made_at, zone=got.agency.time_zone)
        return _download(render_pdf(html), "application/pdf", name)

    @router.get("/overtime", response_class=HTMLResponse)
    async def overtime(request: Request) -> Response:
        async with _reading(request, MANAGERS, "read the overtime report", "overtime.read") as got:
            report = await overtime_report(got.session, got.agency, got.quarter)
            today = got.ctx.runtime.clock.now().astimezone(got.agency.zone).date()
            return await page(
                got.ctx,
                got.session,
                got.user,
                "overtime.html",
                current="overtime",
                quarter=got.quarter,
                quarters=_offered(got.ctx, got.user),
                overtime=report,
                categories=EXPENSE_CATEGORIES,
                today=today.isoformat(),
                flash=request.query_params.get("saved") and "The expense was recorded.",
            )

    @router.get("/overtime.pdf")
    async def overtime_file(request: Request) -> Response:
        async with _reading(request, MANAGERS, "read the overtime report", "overtime.pdf") as got:
            stats = await statistics_of(got.session, got.agency, got.quarter)
            report = await overtime_report(got.session, got.agency, got.quarter)
        made_at = got.ctx.runtime.clock.now()
        html = render_html(stats, made_at=made_at, overtime=report, zone=got.agency.time_zone)
        name = f"{got.agency.slug}-quarterly-{got.quarter}.pdf"
        return _download(render_pdf(html), "application/pdf", name)

    @router.post("/overtime/expenses")
    async def add_expense(request: Request) -> Response:
        ctx, user, form = await checked_form(request, MANAGERS, "record expenses")
        agency = ctx.registry.get(user.agency)
        try:
            spent_on = date.fromisoformat(form.get("spent_on", "").strip())
        except ValueError:
            raise InvalidInput("date: give the day the money was spent, as YYYY-MM-DD") from None
        now: datetime = ctx.runtime.clock.now()
        async with unit_of_work(ctx.runtime.sessions) as session:
            try:
                expense_id = await record_expense(
                    session,
                    agency,
                    spent_on=spent_on,
                    category=form.get("category", ""),
                    amount_cents=parse_amount(form.get("amount", "")),
                    note=form.get("note", ""),
                    recorded_by=user.name,
                    now=now,
                )
            except BadExpense as error:
                raise InvalidInput(str(error)) from None
            audit.record_by(
                session,
                user,
                "expense.record",
                at=now,
                object_type="expense",
                object_id=str(expense_id),
            )
            await session.commit()
        quarter = Quarter(spent_on.year, (spent_on.month - 1) // 3 + 1)
        return RedirectResponse(f"{BASE}/overtime?quarter={quarter}&saved=1", status_code=303)

    return router
