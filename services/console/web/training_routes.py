"""The training pages (issue 14): sessions held and who attended or was excused (with the memo,
830 §IV.E.3.f), marks changed later, past attendance imported from a spreadsheet's CSV, and who
is lapsing. Training currency is derived from these records, never typed in."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import roster_actions, roster_view
from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.web import roster_forms
from services.console.web.forms import checked_form, checked_upload, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import TEAM, page
from services.console.web.security import require_role, signed_in
from shared.roster.training_files import COLUMNS, read_training_file

MAX_TRAINING_FILE = 1024 * 1024
DONE = {
    "recorded": "Session recorded.",
    "marked": "Marks saved.",
}


def _today(ctx: ConsoleContext, user: SignedIn) -> date:
    return ctx.runtime.clock.now().astimezone(ctx.registry.get(user.agency).zone).date()


def _read(
    session: AsyncSession, ctx: ConsoleContext, user: SignedIn, action: str, object_id: str
) -> None:
    audit.record_by(
        session,
        user,
        action,
        at=ctx.runtime.clock.now(),
        object_type="training",
        object_id=object_id,
    )


def training_router() -> APIRouter:
    router = APIRouter()

    @router.get("/training", response_class=HTMLResponse)
    async def training_page(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the training records")
            shown = await roster_view.training_page(
                session, ctx.registry.get(user.agency), now=ctx.runtime.clock.now()
            )
            _read(session, ctx, user, "training.read", user.agency)
            imported = request.query_params.get("imported", "")
            response = await page(
                ctx,
                session,
                user,
                "training.html",
                current="training",
                training=shown,
                today=_today(ctx, user),
                columns=",".join(COLUMNS),
                flash=_imported(imported) or DONE.get(request.query_params.get("done", "")),
                day=roster_view.days_in(ctx.registry.get(user.agency).zone),
            )
            await session.commit()
        return response

    @router.post("/training/sessions", response_class=HTMLResponse)
    async def record_session(request: Request) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "record a training session")
        marks, _absent = roster_forms.marks(form)
        session_id = await roster_actions.record_training(
            ctx,
            user,
            held_on=roster_forms.held_on(form),
            title=roster_forms.text(form, "title", limit=roster_forms.MAX_TITLE, required=True),
            topics=roster_forms.topics(form),
            marks=marks,
        )
        return RedirectResponse(
            f"{BASE}/training/sessions/{session_id}?done=recorded", status_code=303
        )

    @router.post("/training/import", response_class=HTMLResponse)
    async def import_file(request: Request) -> Response:
        ctx, user, content = await checked_upload(
            request,
            TEAM,
            "import training attendance",
            limit=MAX_TRAINING_FILE,
            noun="attendance file",
        )
        sessions = read_training_file(content, today=_today(ctx, user))
        summary = await roster_actions.import_training(ctx, user, sessions)
        return RedirectResponse(
            f"{BASE}/training?imported={summary.sessions_added}-{summary.sessions_updated}"
            f"-{summary.marks}",
            status_code=303,
        )

    @router.get("/training/sessions/{session_id}", response_class=HTMLResponse)
    async def session_page(request: Request, session_id: uuid.UUID) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the training records")
            shown = await roster_view.session_page(
                session, ctx.registry.get(user.agency), session_id, now=ctx.runtime.clock.now()
            )
            _read(session, ctx, user, "training.read_session", str(session_id))
            response = await page(
                ctx,
                session,
                user,
                "training_session.html",
                current="training",
                shown=shown,
                flash=DONE.get(request.query_params.get("done", "")),
                day=roster_view.days_in(ctx.registry.get(user.agency).zone),
            )
            await session.commit()
        return response

    @router.post("/training/sessions/{session_id}", response_class=HTMLResponse)
    async def change_marks(request: Request, session_id: uuid.UUID) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "change training marks")
        marks, absent = roster_forms.marks(form)
        await roster_actions.change_marks(ctx, user, session_id, marks, absent)
        return RedirectResponse(
            f"{BASE}/training/sessions/{session_id}?done=marked", status_code=303
        )

    return router


def _imported(value: str) -> str | None:
    """`2-1-40` → what the import did (the numbers only: never text from the address)."""
    parts = value.split("-")
    if len(parts) != 3 or not all(part.isdigit() and len(part) <= 6 for part in parts):
        return None
    added, updated, marks = (int(part) for part in parts)
    return (
        f"Imported: {added} new session{'s' * (added != 1)}, {updated} updated, "
        f"{marks} mark{'s' * (marks != 1)}."
    )
