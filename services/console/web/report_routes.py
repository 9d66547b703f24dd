"""The reports in the console: the quarter's anonymous statistics (chief, manager,
coordinators), with CSV and PDF; the manager's overtime and expenses."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

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
        previous = quarters[-1]
        quarters.append(
            Quarter(previous.year - 1, 4)
            if previous.number == 1
            else Quarter(previous.year, previous.number - 1)
        )
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


def report_router() -> APIRouter:
    router = APIRouter()

    @router.get("/statistics", response_class=HTMLResponse)
    async def statistics(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, READERS, "read the statistics")
            quarter = _quarter(ctx, user, request.query_params.get("quarter"))
            stats = await statistics_of(session, ctx.registry.get(user.agency), quarter)
            audit.record_by(
                session,
                user,
                "statistics.read",
                at=ctx.runtime.clock.now(),
                object_type="statistics",
                object_id=str(quarter),
            )
            response = await page(
                ctx,
                session,
                user,
                "statistics.html",
                current="statistics",
                quarter=quarter,
                quarters=_offered(ctx, user),
                **statistics_context(stats),
            )
            await session.commit()
        return response

    @router.get("/statistics.{extension}")
    async def statistics_file(request: Request, extension: str) -> Response:
        ctx = console_context(request)
        if extension not in ("csv", "pdf"):
            raise InvalidInput("the statistics come as .csv or .pdf")
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, READERS, "read the statistics")
            quarter = _quarter(ctx, user, request.query_params.get("quarter"))
            agency = ctx.registry.get(user.agency)
            stats = await statistics_of(session, agency, quarter)
            audit.record_by(
                session,
                user,
                f"statistics.{extension}",
                at=ctx.runtime.clock.now(),
                object_type="statistics",
                object_id=str(quarter),
            )
            await session.commit()
        name = f"{agency.slug}-statistics-{quarter}.{extension}"
        if extension == "csv":
            return _download(render_csv(stats).encode(), "text/csv; charset=utf-8", name)
        html = render_html(stats, made_at=ctx.runtime.clock.now(), zone=agency.time_zone)
        return _download(render_pdf(html), "application/pdf", name)

    @router.get("/overtime", response_class=HTMLResponse)
    async def overtime(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, MANAGERS, "read the overtime report")
            quarter = _quarter(ctx, user, request.query_params.get("quarter"))
            agency = ctx.registry.get(user.agency)
            report = await overtime_report(session, agency, quarter)
            audit.record_by(
                session,
                user,
                "overtime.read",
                at=ctx.runtime.clock.now(),
                object_type="overtime",
                object_id=str(quarter),
            )
            response = await page(
                ctx,
                session,
                user,
                "overtime.html",
                current="overtime",
                quarter=quarter,
                quarters=_offered(ctx, user),
                overtime=report,
                categories=EXPENSE_CATEGORIES,
                today=ctx.runtime.clock.now().astimezone(agency.zone).date().isoformat(),
                flash=request.query_params.get("saved") and "The expense was recorded.",
            )
            await session.commit()
        return response

    @router.get("/overtime.pdf")
    async def overtime_file(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, MANAGERS, "read the overtime report")
            quarter = _quarter(ctx, user, request.query_params.get("quarter"))
            agency = ctx.registry.get(user.agency)
            stats = await statistics_of(session, agency, quarter)
            report = await overtime_report(session, agency, quarter)
            audit.record_by(
                session,
                user,
                "overtime.pdf",
                at=ctx.runtime.clock.now(),
                object_type="overtime",
                object_id=str(quarter),
            )
            await session.commit()
        made_at = ctx.runtime.clock.now()
        html = render_html(stats, made_at=made_at, overtime=report, zone=agency.time_zone)
        name = f"{agency.slug}-quarterly-{quarter}.pdf"
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
