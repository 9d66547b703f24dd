"""The team's directory (830 §III.C, §IV.D.3.i; FOP #4 §A.2, §D.2.c).

- `/directory/{token}` and `/directory/{token}.pdf`: what every member of the agency opens
  from the intranet, without signing in. Nothing here records who looks: no audit row, no
  session, no cookie, no log line; the request metrics count the route's template, never the
  token. An unknown or rotated-out link gets a 404 page that does not say whose it was.
- `/directory` (manager, coordinator): the current link, rotating it (audited: who rotated),
  the PDF for the lodge boards and a preview of who is listed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from services.console.accounts import audit
from services.console.context import ConsoleContext
from services.console.directory import Directory, agency_of_link, directory_of, link_of, rotate_link
from services.console.directory_pdf import directory_pdf, pdf_name
from services.console.web.forms import checked_form, console_context
from services.console.web.pages import BASE
from services.console.web.rendering import TEAM, page
from services.console.web.security import require_role, signed_in
from shared.db.unit_of_work import unit_of_work

PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
LINK_PART = 16
"""The link is shown in parts of this many characters, each a place it may wrap on a phone."""
FLASHES = {
    "first": "The link was made. Put it on the intranet.",
    "new": "A new link was made: the old one no longer works. Put the new one on the intranet.",
}


async def _directory_of_link(ctx: ConsoleContext, token: str) -> Directory | None:
    """The directory `token` opens, or None. A read only: the unit of work is rolled back."""
    async with unit_of_work(ctx.runtime.sessions) as session:
        agency = await agency_of_link(session, token)
        if agency is None or agency not in ctx.registry:
            return None
        return await directory_of(session, ctx.registry.get(agency))


def _public_page(ctx: ConsoleContext, directory: Directory | None, token: str) -> HTMLResponse:
    html = ctx.pages.render("directory_public.html", directory=directory, token=token)
    return HTMLResponse(html, status_code=200 if directory else 404, headers=dict(PUBLIC_HEADERS))


def _pdf(content: bytes, agency: str, disposition: str, headers: dict[str, str]) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            **headers,
            "Content-Disposition": f'{disposition}; filename="{pdf_name(agency)}"',
            "Cache-Control": "no-store",
        },
    )


def directory_router() -> APIRouter:
    router = APIRouter()

    @router.get("/directory", response_class=HTMLResponse)
    async def directory_page(request: Request) -> Response:
        ctx = console_context(request)
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "manage the directory")
            link = await link_of(session, user.agency)
            directory = await directory_of(session, ctx.registry.get(user.agency))
            audit.record_by(
                session,
                user,
                "directory.read",
                at=ctx.runtime.clock.now(),
                object_type="directory",
                object_id=user.agency,
            )
            url = str(request.url_for("directory_public", token=link.token)) if link else ""
            response = await page(
                ctx,
                session,
                user,
                "directory.html",
                current="directory",
                link=link,
                link_url=url,
                link_parts=[url[i : i + LINK_PART] for i in range(0, len(url), LINK_PART)],
                directory=directory,
                flash=FLASHES.get(request.query_params.get("made", "")),
            )
            await session.commit()
        return response

    @router.get("/directory.pdf")
    async def directory_file(request: Request) -> Response:
        ctx = console_context(request)
        now = ctx.runtime.clock.now()
        async with signed_in(request, ctx.runtime) as (session, user):
            require_role(user, TEAM, "print the directory")
            directory = await directory_of(session, ctx.registry.get(user.agency))
            audit.record_by(
                session,
                user,
                "directory.pdf",
                at=now,
                object_type="directory",
                object_id=user.agency,
            )
            await session.commit()
        content = await run_in_threadpool(directory_pdf, ctx.pages, directory, printed_at=now)
        return _pdf(content, directory.agency, "attachment", {})

    @router.post("/directory/rotate")
    async def rotate(request: Request) -> Response:
        ctx, user, _ = await checked_form(request, TEAM, "rotate the directory link")
        now = ctx.runtime.clock.now()
        async with unit_of_work(ctx.runtime.sessions) as session:
            first = await link_of(session, user.agency) is None
            await rotate_link(session, agency=user.agency, by=user.name, now=now)
            audit.record_by(
                session,
                user,
                "directory.rotate",
                at=now,
                object_type="directory",
                object_id=user.agency,
                detail={"first": first},
            )
            await session.commit()
        made = "first" if first else "new"
        return RedirectResponse(f"{BASE}/directory?made={made}", status_code=303)

    # before "/directory/{token}", which would take "x.pdf" for a token
    @router.get("/directory/{token}.pdf", name="directory_public_pdf")
    async def directory_public_file(request: Request, token: str) -> Response:
        ctx = console_context(request)
        directory = await _directory_of_link(ctx, token)
        if directory is None:
            return _public_page(ctx, None, token)
        content = await run_in_threadpool(
            directory_pdf, ctx.pages, directory, printed_at=ctx.runtime.clock.now()
        )
        return _pdf(content, directory.agency, "inline", PUBLIC_HEADERS)

    @router.get("/directory/{token}", name="directory_public", response_class=HTMLResponse)
    async def directory_public(request: Request, token: str) -> Response:
        ctx = console_context(request)
        return _public_page(ctx, await _directory_of_link(ctx, token), token)

    return router
