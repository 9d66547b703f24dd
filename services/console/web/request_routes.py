"""Commanders' and supervisors' pages: request the team, follow their requests."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.console import actions
from services.console.accounts import audit
from services.console.read_model import own_requests
from services.console.request_form import (
    EVENTS,
    FIELDS,
    OUTCOMES,
    blank_form,
    report_from_file,
    report_from_form,
)
from services.console.web.forms import checked_upload, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import REQUESTERS, TEAM, page
from services.console.web.security import require_csrf, require_role, signed_in
from shared.errors import InvalidInput

MAX_REPORT_FILE = 64 * 1024

REQUEST_WORDS = {
    "kcmo": "Policy 830 §III.E.6: the on-scene commander may request the team for any incident "
    "they believe calls for it. The PST Manager is told at once and specialists are paged.",
    "kck": "FOP #4 §B.1.h: a supervisor may request the team when they believe it is needed. "
    "The coordinators are told at once and specialists are paged.",
}


def request_router() -> APIRouter:
    router = APIRouter()

    async def _form_page(
        request: Request, form: dict[str, str], message: str, status_code: int = 200
    ) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, REQUESTERS, "request the team")
            response = await page(
                ctx,
                session,
                user,
                "request.html",
                current="request",
                status_code=status_code,
                form=form,
                events=EVENTS,
                outcomes=OUTCOMES,
                message=message,
                request_words=REQUEST_WORDS.get(user.agency, ""),
                may_upload=user.role in TEAM,
            )
            await session.commit()
        return response

    @router.get("/request", response_class=HTMLResponse)
    async def request_form(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            await session.commit()
        zone = ctx.registry.get(user.agency).time_zone
        return await _form_page(request, blank_form(ctx.runtime.clock.now(), zone), "")

    @router.post("/request", response_class=HTMLResponse)
    async def request_submit(request: Request) -> Response:
        ctx = console_context(request)
        raw = await request.form()
        form = {k: str(v)[:600] for k, v in raw.items() if isinstance(v, str)}
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, REQUESTERS, "request the team")
            require_csrf(user, raw.get("csrf_token"))
            await session.commit()
        try:
            report = report_from_form(
                form,
                agency=user.agency,
                zone=ctx.registry.get(user.agency).time_zone,
                role=user.role,
                now=ctx.runtime.clock.now(),
                agencies=frozenset(ctx.registry.slugs),
            )
        except InvalidInput as error:
            # unticked boxes are not sent: the form shows them unticked again
            kept = dict.fromkeys(FIELDS, "") | form
            return await _form_page(request, kept, str(error.detail), status_code=422)
        await actions.request_team(ctx, user, report)
        target = "my-requests" if user.role not in ("coordinator", "manager") else "board"
        return RedirectResponse(f"{BASE}/{target}?requested=1", status_code=303)

    @router.post("/request/file", response_class=HTMLResponse)
    async def request_file(request: Request) -> Response:
        ctx, user, content = await checked_upload(
            request, TEAM, "send a report from a file", limit=MAX_REPORT_FILE, noun="report file"
        )
        report = report_from_file(
            content,
            agency=user.agency,
            now=ctx.runtime.clock.now(),
            agencies=frozenset(ctx.registry.slugs),
        )
        await actions.request_team(ctx, user, report)
        return RedirectResponse(f"{BASE}/board", status_code=303)

    @router.get("/my-requests", response_class=HTMLResponse)
    async def my_requests(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, REQUESTERS, "request the team")
            reports = await own_requests(session, user.user_id)
            audit.record_by(session, user, "requests.read", at=ctx.runtime.clock.now())
            response = await page(
                ctx,
                session,
                user,
                "my_reports.html",
                current="my-requests",
                reports=reports,
                flash=request.query_params.get("requested")
                and "Your request was sent. Its status shows here.",
            )
            await session.commit()
        return response

    return router
