"""The alerts inbox, the roster and the test phones."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import actions
from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.eligibility import RosterLine, roster_with_eligibility
from services.console.read_model import alerts, test_phones
from services.console.web.forms import checked_form, checked_upload, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import TEAM, fragment_stream, page
from services.console.web.security import require_role, signed_in
from services.intake.roster_files import read_roster_file
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput, NotFound
from shared.incident_report import validation_error_line
from shared.roster.entry import RosterEntryIn, SpecialistStatus

MAX_ROSTER_FILE = 1024 * 1024
FLAGS = (
    ("on_duty", "On duty"),
    ("on_call", "On call"),
    ("training_current", "Training current"),
    ("under_investigation", "Under investigation"),
)


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
            entries = await roster_with_eligibility(
                session, user.agency, now=ctx.runtime.clock.now()
            )
            _read(session, ctx, user, "roster.read", object_type="roster", object_id=user.agency)
            response = await page(
                ctx,
                session,
                user,
                "roster.html",
                current="roster",
                entries=entries,
                pageable_count=sum(1 for e in entries if e.why_not is None),
                flash=request.query_params.get("saved") and "Saved.",
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
        return RedirectResponse(f"{BASE}/roster?saved=1", status_code=303)

    @router.get("/roster/{member_id}", response_class=HTMLResponse)
    async def roster_entry(request: Request, member_id: str) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the roster")
            entry = _find(
                await roster_with_eligibility(session, user.agency, now=ctx.runtime.clock.now()),
                member_id,
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
                entry=entry,
                statuses=[s.value for s in SpecialistStatus],
                flags=FLAGS,
                message="",
            )
            await session.commit()
        return response

    @router.post("/roster/{member_id}", response_class=HTMLResponse)
    async def roster_entry_save(request: Request, member_id: str) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "edit the roster")
        async with unit_of_work(ctx.runtime.sessions) as session:
            current = await roster_with_eligibility(
                session, user.agency, now=ctx.runtime.clock.now()
            )
        _find(current, member_id)
        try:
            edited = RosterEntryIn.model_validate(
                {
                    "member_id": member_id,
                    "agency": user.agency,
                    "name": form.get("name", ""),
                    "phone": form.get("phone", "").strip(),
                    "status": form.get("status", ""),
                    **{flag: form.get(flag) == "true" for flag, _ in FLAGS},
                    "languages": [
                        p.strip() for p in form.get("languages", "").split(";") if p.strip()
                    ],
                }
            )
        except ValidationError as error:
            raise InvalidInput(validation_error_line(error)) from None
        entries = [
            edited
            if line.member_id == member_id
            else RosterEntryIn.model_validate(
                {
                    "member_id": line.member_id,
                    "agency": user.agency,
                    "name": line.name,
                    "phone": line.phone,
                    "status": line.status,
                    "on_duty": line.on_duty,
                    "on_call": line.on_call,
                    "training_current": line.training_current,
                    "under_investigation": line.under_investigation,
                    "languages": line.languages,
                }
            )
            for line in current
        ]
        await actions.replace_roster(
            ctx, user, entries, "roster.edit", {"member_id": member_id[:64]}
        )
        return RedirectResponse(f"{BASE}/roster?saved=1", status_code=303)

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


def _find(entries: list[RosterLine], member_id: str) -> RosterLine:
    for entry in entries:
        if entry.member_id == member_id:
            return entry
    raise NotFound("no such specialist on your agency's roster")
