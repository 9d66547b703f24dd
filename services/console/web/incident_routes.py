"""The board, an incident's page, their live streams, and what coordinators do on them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import actions
from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.eligibility import roster_with_eligibility
from services.console.read_model import alerts, incident, open_count, open_incidents, timeline
from services.console.web.forms import checked_form, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import TEAM, board_stream, fragment_stream, page
from services.console.web.security import require_role, signed_in
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput, NotFound
from shared.policy import Role


async def render_board(ctx: ConsoleContext, agency: str) -> tuple[str, set[uuid.UUID]]:
    """The agency's board as every one of its coordinators sees it (nothing in it is one
    person's), and the incidents on it."""
    async with unit_of_work(ctx.runtime.sessions) as session:
        incidents = await open_incidents(session, agency)
    html = ctx.pages.render(
        "_board.html",
        incidents=incidents,
        now=ctx.runtime.clock.now(),
        **ctx.pages.agency_globals(agency),
    )
    return html, {i.incident_id for i in incidents}


async def render_card(ctx: ConsoleContext, agency: str, incident_id: uuid.UUID) -> str:
    """One incident's card on the board (hidden once the incident is closed)."""
    async with unit_of_work(ctx.runtime.sessions) as session:
        found = await incident(session, agency, incident_id)
    if found is None:
        return f'<li id="card-{incident_id}" hidden></li>'
    return ctx.pages.render("_card.html", incident=found, **ctx.pages.agency_globals(agency))


async def render_board_meta(ctx: ConsoleContext, agency: str) -> str:
    async with unit_of_work(ctx.runtime.sessions) as session:
        count = await open_count(session, agency)
    return ctx.pages.render(
        "_board_meta.html",
        open_count=count,
        now=ctx.runtime.clock.now(),
        **ctx.pages.agency_globals(agency),
    )


async def _incident_parts(
    ctx: ConsoleContext, session: AsyncSession, user: SignedIn, incident_id: uuid.UUID
) -> dict[str, Any]:
    """What the incident's page (and its live part) shows this person, and what they may do."""
    found = await incident(session, user.agency, incident_id)
    if found is None:
        raise NotFound("no such incident")
    involved = {
        str(p["member_id"]) for p in (found.report or {}).get("persons") or [] if p.get("member_id")
    }
    roster = await roster_with_eligibility(
        session,
        user.agency,
        now=ctx.runtime.clock.now(),
        involved=involved,
        assigned={a.member_id for a in found.assignments},
    )
    agency = ctx.registry.get(user.agency)
    return {
        "incident": found,
        "lines": await timeline(session, incident_id),
        "incident_alerts": await alerts(session, user.agency, incident_id=incident_id),
        "awaiting_approval": [a for a in found.assignments if a.state == "awaiting_approval"]
        if user.role == Role.COORDINATOR
        else [],
        "consent_section": ", §".join(c.id for c in agency.policy.criteria if c.needs_consent),
        "may_add_specialists": agency.may_set_additional_specialists.allows(user.role),
        "pageable": [e for e in roster if e.why_not is None],
    }


def incident_router() -> APIRouter:
    router = APIRouter()

    @router.get("/board", response_class=HTMLResponse)
    async def board(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the board")
            incidents = await open_incidents(session, user.agency)
            audit.record_by(session, user, "board.read", at=ctx.runtime.clock.now())
            response = await page(
                ctx, session, user, "board.html", current="board", incidents=incidents
            )
            await session.commit()
        return response

    @router.get("/board/stream")
    async def board_live(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see the board")
            audit.record_by(session, user, "board.watch", at=ctx.runtime.clock.now())
            await session.commit()
        agency = user.agency
        return board_stream(ctx, request, agency, lambda: ctx.live.board(agency))

    @router.get("/incidents/{incident_id}", response_class=HTMLResponse)
    async def incident_page(request: Request, incident_id: uuid.UUID) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            if user.role not in TEAM:
                raise NotFound("no such incident")  # the chief's and requesters' don't exist
            parts = await _incident_parts(ctx, session, user, incident_id)
            audit.record_by(
                session,
                user,
                "incident.read",
                at=ctx.runtime.clock.now(),
                object_type="incident",
                object_id=str(incident_id),
            )
            response = await page(ctx, session, user, "incident.html", current="board", **parts)
            await session.commit()
        return response

    @router.get("/incidents/{incident_id}/stream")
    async def incident_stream(request: Request, incident_id: uuid.UUID) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "see incidents")
            found = await incident(session, user.agency, incident_id)
            if found is None:
                raise NotFound("no such incident")
            audit.record_by(
                session,
                user,
                "incident.watch",
                at=ctx.runtime.clock.now(),
                object_type="incident",
                object_id=str(incident_id),
            )
            await session.commit()
        agency = user.agency

        async def render() -> str:
            async with unit_of_work(ctx.runtime.sessions) as session:
                parts = await _incident_parts(ctx, session, user, incident_id)
            return ctx.pages.render(
                "_incident_live.html",
                **parts,
                csrf_token=user.csrf_token,
                now=ctx.runtime.clock.now(),
                **ctx.pages.agency_globals(agency),
            )

        return fragment_stream(
            ctx, request, agency, "incident", render, lambda change: incident_id in change.cards
        )

    def _back(incident_id: uuid.UUID) -> Response:
        return RedirectResponse(f"{BASE}/incidents/{incident_id}", status_code=303)

    @router.post("/incidents/{incident_id}/stand-down")
    async def stand_down(request: Request, incident_id: uuid.UUID) -> Response:
        ctx, user, _ = await checked_form(request, TEAM, "stand the team down")
        await actions.stand_down(ctx, user, incident_id)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/manual-page")
    async def manual_page(request: Request, incident_id: uuid.UUID) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "page a specialist")
        member_id = form.get("member_id", "").strip()
        if not member_id:
            raise InvalidInput("member_id: choose the specialist to page")
        await actions.page_by_hand(ctx, user, incident_id, member_id)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/consent")
    async def consent(request: Request, incident_id: uuid.UUID) -> Response:
        ctx, user, _ = await checked_form(request, TEAM, "record consent")
        await actions.record_consent(ctx, user, incident_id)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/extra-specialists")
    async def extra(request: Request, incident_id: uuid.UUID) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "authorise extra specialists")
        try:
            count = int(form.get("additional_specialists", ""))
        except ValueError:
            raise InvalidInput("additional_specialists: a whole number from 0 to 10") from None
        await actions.authorise_extra(ctx, user, incident_id, count)
        return _back(incident_id)

    @router.post("/incidents/{incident_id}/approval")
    async def approval(request: Request, incident_id: uuid.UUID) -> Response:
        ctx, user, form = await checked_form(request, TEAM, "record a consult")
        member_id = form.get("member_id", "").strip()
        if not member_id:
            raise InvalidInput("member_id: whose Bureau Director was consulted")
        await actions.record_approval(ctx, user, incident_id, member_id)
        return _back(incident_id)

    return router
