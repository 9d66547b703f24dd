"""The alerts inbox, the roster (each member's page, steps, details, phone codes and
reviews; issue 14) and the test phones. The training pages are `training_routes`'."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import actions, roster_actions, roster_view
from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.read_model import alerts, test_phones
from services.console.web import roster_forms
from services.console.web.forms import checked_form, checked_upload, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import TEAM, fragment_stream, page
from services.console.web.security import require_role, signed_in
from services.console.web.training_routes import training_router
from services.intake.roster_files import read_roster_file
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput, NotFound
from shared.roster.lifecycle import MAX_REASON, IllegalTransition, Lifecycle, Transition
from shared.roster.reviews import FAILURE_TO_ASSIST, REMOVE_STEP
from shared.roster.steps import lifecycle_of

MAX_ROSTER_FILE = 1024 * 1024
FLAGS = (
    ("on_duty", "On duty"),
    ("on_call", "On call"),
    ("under_investigation", "Under investigation"),
)
APPLY = "apply"
"""The lifecycle's first step: a new applicant onto the roster."""
DONE = {
    "saved": "Saved.",
    "phone": "Saved. The new phone was sent a code; it is not paged until the code comes back.",
    "applied": "Application recorded. The phone was sent a code to confirm.",
    "step": "Step recorded.",
    "code": "A new code was sent to the phone.",
    "kept": "Decision recorded: kept on the team.",
    "decided": "Decision recorded: remove. Record the removal step below.",
}
"""What a page says after a form (by the redirect's `done`; never text from the address)."""


def _read(
    session: AsyncSession,
    ctx: ConsoleContext,
    user: SignedIn,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
) -> None:
    audit.record_by(
        session,
        user,
        action,
        at=ctx.runtime.clock.now(),
        object_type=object_type,
        object_id=object_id,
    )


async def render_phones(ctx: ConsoleContext, user: SignedIn) -> str:
    async with unit_of_work(ctx.runtime.sessions) as session:
        phones = await test_phones(session, user.agency)
    return ctx.pages.render(
        "_test_phones.html",
        phones=phones,
        csrf_token=user.csrf_token,
        **ctx.pages.agency_globals(user.agency),
    )


def team_router() -> APIRouter:
    router = APIRouter()

    @router.get("/alerts", response_class=HTMLResponse)
    async def alerts_page(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the alerts")
            found = await alerts(session, user.agency)
            _read(session, ctx, user, "alerts.read")
            response = await page(ctx, session, user, "alerts.html", current="alerts", alerts=found)
            await session.commit()
        return response

    @router.post("/alerts/{alert_id}/acknowledge")
    async def acknowledge(request: Request, alert_id: uuid.UUID) -> Response:
        ctx, user, _ = await checked_form(request, TEAM, "acknowledge alerts")
        await actions.acknowledge_alert(ctx, user, alert_id)
        return RedirectResponse(f"{BASE}/alerts", status_code=303)

    @router.get("/roster", response_class=HTMLResponse)
    async def roster_page(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the roster")
            shown = await roster_view.roster_page(
                session,
                ctx.registry.get(user.agency),
                role=user.role.value,
                now=ctx.runtime.clock.now(),
            )
            _read(session, ctx, user, "roster.read", object_type="roster", object_id=user.agency)
            response = await page(
                ctx,
                session,
                user,
                "roster.html",
                current="roster",
                roster=shown,
                flash=DONE.get(request.query_params.get("done", "")),
                day=roster_view.days_in(ctx.registry.get(user.agency).zone),
            )
            await session.commit()
        return response

    # before "/roster/{member_id}", which would take "import" for a member id
    @router.post("/roster/import", response_class=HTMLResponse)
    async def roster_import(request: Request) -> Response:
        ctx, user, content = await checked_upload(
            request, TEAM, "import the roster", limit=MAX_ROSTER_FILE, noun="roster file"
        )
        try:
            entries = read_roster_file(content, agency=user.agency)
        except UnicodeDecodeError:
            raise InvalidInput("file: not UTF-8 text (save the CSV as UTF-8)") from None
        await actions.replace_roster(ctx, user, entries, "roster.import", {"entries": len(entries)})
        return RedirectResponse(f"{BASE}/roster?done=saved", status_code=303)

    @router.post("/roster/apply", response_class=HTMLResponse)
    async def roster_apply(request: Request) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "add an applicant")
        lifecycle = lifecycle_of(ctx.registry.get(user.agency))
        applicant = roster_forms.applicant(form)
        first = _step(lifecycle, APPLY)
        await roster_actions.add_applicant(
            ctx, user, applicant, roster_forms.step_request(form, first, user.role.value)
        )
        return _to_member(applicant.member_id, "applied")

    @router.post("/roster/reviews/{review_id}", response_class=HTMLResponse)
    async def roster_review(request: Request, review_id: uuid.UUID) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "decide a review")
        decision = form.get("decision", "")
        reason = roster_forms.text(form, "reason", limit=MAX_REASON, required=True)
        review = await roster_actions.decide(ctx, user, review_id, decision, reason)
        if review.decision == "remove":
            return RedirectResponse(
                f"{_member_path(review.member_id)}?done=decided&step={REMOVE_STEP}"
                f"&grounds={quote(FAILURE_TO_ASSIST)}#step-{REMOVE_STEP}",
                status_code=303,
            )
        return _to_member(review.member_id, "kept")

    @router.get("/roster/{member_id}", response_class=HTMLResponse)
    async def roster_entry(request: Request, member_id: str) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the roster")
            shown = await roster_view.member_page(
                session,
                ctx.registry.get(user.agency),
                member_id,
                role=user.role.value,
                now=ctx.runtime.clock.now(),
                open_step=request.query_params.get("step"),
                grounds=request.query_params.get("grounds"),
            )
            _read(
                session,
                ctx,
                user,
                "roster.read_entry",
                object_type="specialist",
                object_id=member_id[:64],
            )
            response = await page(
                ctx,
                session,
                user,
                "roster_entry.html",
                current="roster",
                member=shown,
                entry=shown.entry,
                flags=FLAGS,
                flash=DONE.get(request.query_params.get("done", "")),
                day=roster_view.days_in(ctx.registry.get(user.agency).zone),
            )
            await session.commit()
        return response

    @router.post("/roster/{member_id}", response_class=HTMLResponse)
    async def roster_entry_save(request: Request, member_id: str) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "edit the roster")
        change = await roster_actions.edit_details(ctx, user, member_id, roster_forms.details(form))
        return _to_member(member_id, "phone" if change.phone_to_confirm else "saved")

    @router.post("/roster/{member_id}/steps/{transition}", response_class=HTMLResponse)
    async def roster_step(request: Request, member_id: str, transition: str) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "record a step")
        lifecycle = lifecycle_of(ctx.registry.get(user.agency))
        chosen = _step(lifecycle, transition)
        await roster_actions.step(
            ctx, user, member_id, roster_forms.step_request(form, chosen, user.role.value)
        )
        return _to_member(member_id, "step")

    @router.post("/roster/{member_id}/code", response_class=HTMLResponse)
    async def roster_code(request: Request, member_id: str) -> Response:
        ctx, user, _ = await checked_form(request, TEAM, "send a phone code")
        await roster_actions.send_code(ctx, user, member_id)
        return _to_member(member_id, "code")

    router.include_router(training_router())

    @router.get("/test-phones", response_class=HTMLResponse)
    async def phones_page(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "use the test phones")
            phones = await test_phones(session, user.agency)
            _read(session, ctx, user, "test_phones.read")
            response = await page(
                ctx,
                session,
                user,
                "test_phones.html",
                current="test-phones",
                phones=phones,
                twilio_configured=ctx.runtime.settings.twilio_configured,
                flash=request.query_params.get("sent") and "Sent.",
            )
            await session.commit()
        return response

    @router.get("/test-phones/stream")
    async def phones_stream(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "use the test phones")
            await session.commit()
        return fragment_stream(
            ctx,
            request,
            user.agency,
            "phones",
            lambda: render_phones(ctx, user),
            lambda change: change.other or bool(change.cards),
        )

    @router.post("/test-phones/keypress")
    async def phones_keypress(request: Request) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "use the test phones")
        try:
            page_id = uuid.UUID(form.get("page_id", ""))
        except ValueError:
            raise InvalidInput("page_id: the call to answer") from None
        await actions.press_key_as_test_phone_call(ctx, user, page_id, form.get("digit", ""))
        return RedirectResponse(f"{BASE}/test-phones?sent=1", status_code=303)

    @router.post("/test-phones/reply")
    async def phones_reply(request: Request) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "use the test phones")
        body = form.get("body", "").strip()
        if not body or len(body) > 160:
            raise InvalidInput("body: the reply, 1 to 160 characters")
        await actions.reply_as_test_phone(ctx, user, form.get("phone", "").strip(), body)
        return RedirectResponse(f"{BASE}/test-phones?sent=1", status_code=303)

    return router


def _step(lifecycle: Lifecycle, transition: str) -> Transition:
    try:
        return lifecycle.find(transition)
    except IllegalTransition as error:
        raise NotFound(error.why) from None


def _member_path(member_id: str) -> str:
    return f"{BASE}/roster/{quote(member_id, safe='')}"


def _to_member(member_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{_member_path(member_id)}?done={done}", status_code=303)
