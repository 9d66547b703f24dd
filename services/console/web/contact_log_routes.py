"""The phone-sized form a specialist opens from the contact-log SMS (`/console/log/{token}`):
no sign-in, the one-use link is the key. Counts only, no free text (830 §III.H); nothing here
records who opened it or what they answered beyond the anonymous log itself."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from services.console.context import ConsoleContext
from services.console.web.forms import console_context
from services.notifier.contact_log_questions import (
    ContactAnswers,
    parse_hours,
    parse_kind,
    parse_people,
    parse_referral,
)
from services.notifier.contact_logs import complete_by_form, exchange_for_form, skip_by_form
from shared.db.unit_of_work import unit_of_work

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
REFERRALS = (
    ("eap", "EAP"),
    ("mhp", "The team's mental health professional"),
    ("other", "Another professional"),
    ("none", "None"),
)


def _page(ctx: ConsoleContext, status_code: int = 200, **context: object) -> HTMLResponse:
    context.setdefault("message", "")
    context.setdefault("form", {})
    html = ctx.pages.render(
        "contact_log.html", user=None, flash=None, referrals=REFERRALS, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE)


def _answers(form: dict[str, str]) -> ContactAnswers | str:
    """The four answers, or what is wrong with them (nothing of a wrong answer is kept)."""
    people = parse_people(form.get("people", ""))
    if people is None or people < 1:
        return "How many people: a number from 1 to 50 (or choose “Nothing to log”)."
    kind = parse_kind(form.get("kind", ""))
    if kind is None:
        return "Choose members or family."
    referral = parse_referral(form.get("referral", ""))
    if referral is None:
        return "Choose the referral made, or none."
    hours = parse_hours(form.get("hours", ""))
    if hours is None:
        return "Hours given: a number from 0 to 48, e.g. 1.5."
    return ContactAnswers(people=people, kind=kind, referral=referral, hours=hours)


def contact_log_router() -> APIRouter:
    router = APIRouter()

    @router.get("/log/{token}", response_class=HTMLResponse)
    async def contact_log_form(request: Request, token: str) -> Response:
        ctx = console_context(request)
        async with unit_of_work(ctx.runtime.sessions) as session:
            exchange = await exchange_for_form(session, token, ctx.runtime.clock.now())
        if exchange is None:
            return _page(ctx, 404, state="gone")
        return _page(ctx, state="open", token=token, direct=exchange.source == "direct")

    @router.post("/log/{token}", response_class=HTMLResponse)
    async def contact_log_submit(request: Request, token: str) -> Response:
        ctx = console_context(request)
        raw = await request.form()
        form = {k: str(v)[:16] for k, v in raw.items() if isinstance(v, str)}
        now = ctx.runtime.clock.now()
        settings = ctx.runtime.settings
        async with unit_of_work(ctx.runtime.sessions) as session:
            exchange = await exchange_for_form(session, token, now)
            if exchange is None:
                return _page(ctx, 404, state="gone")
            if form.get("nothing") == "1":
                done = await skip_by_form(session, settings=settings, token=token, now=now)
            else:
                answers = _answers(form)
                if isinstance(answers, str):
                    return _page(
                        ctx,
                        422,
                        state="open",
                        token=token,
                        direct=exchange.source == "direct",
                        message=answers,
                        form={k: form.get(k, "") for k in ("people", "kind", "referral", "hours")},
                    )
                done = await complete_by_form(
                    session,
                    topics=ctx.runtime.topics,
                    registry=ctx.registry,
                    settings=settings,
                    token=token,
                    answers=answers,
                    now=now,
                )
            await session.commit()
        if not done:
            return _page(ctx, 404, state="gone")
        return _page(ctx, state="nothing" if form.get("nothing") == "1" else "logged")

    return router
