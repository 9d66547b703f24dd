"""Signing in (password and the authenticator's code, every time) and out."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.console.accounts.sessions import sign_out
from services.console.accounts.sign_in import SignedInNow, sign_in
from services.console.context import ConsoleContext
from services.console.web.forms import console_context
from services.console.web.pages import BASE
from services.console.web.rendering import home_of
from services.console.web.security import (
    SESSION_COOKIE,
    BadCsrfToken,
    NotSignedIn,
    clear_session_cookie,
    require_csrf,
    set_session_cookie,
    set_sign_in_cookie,
    sign_in_csrf_ok,
    sign_in_token,
    signed_in,
)
from shared.db.unit_of_work import unit_of_work

MAX_FIELD = 256


def sign_in_page(
    ctx: ConsoleContext,
    request: Request,
    *,
    message: str = "",
    email: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    token = sign_in_token(request)
    response = HTMLResponse(
        ctx.pages.render(
            "sign_in.html",
            user=None,
            csrf_token=token,
            message=message,
            email=email,
            flash=None,
        ),
        status_code=status_code,
    )
    set_sign_in_cookie(response, token, secure=ctx.secure_cookies)
    return response


def sign_in_router() -> APIRouter:
    router = APIRouter()

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_form(request: Request) -> Response:
        return sign_in_page(console_context(request), request)

    @router.post("/sign-in", response_class=HTMLResponse)
    async def sign_in_submit(request: Request) -> Response:
        ctx = console_context(request)
        form = await request.form()
        fields = {k: str(form.get(k) or "")[:MAX_FIELD] for k in ("email", "password", "code")}
        if not sign_in_csrf_ok(request, str(form.get("csrf_token") or "")):
            raise BadCsrfToken()
        zones = {slug: ZoneInfo(ctx.registry.get(slug).time_zone) for slug in ctx.registry.slugs}
        async with unit_of_work(ctx.runtime.sessions) as session:
            result = await sign_in(
                session,
                email=fields["email"],
                password=fields["password"],
                code=fields["code"].strip(),
                now=ctx.runtime.clock.now(),
                hasher=ctx.hasher,
                zones=zones,
            )
            await session.commit()
        if not isinstance(result, SignedInNow):
            return sign_in_page(
                ctx, request, message=result.message, email=fields["email"], status_code=401
            )
        response = RedirectResponse(f"{BASE}/", status_code=303)
        set_session_cookie(response, result.session_token, secure=ctx.secure_cookies)
        return response

    @router.post("/sign-out")
    async def sign_out_submit(request: Request) -> Response:
        ctx = console_context(request)
        form = await request.form()
        async with signed_in(request, ctx.runtime) as (session, user):
            require_csrf(user, form.get("csrf_token"))
            await sign_out(
                session, token=request.cookies.get(SESSION_COOKIE, ""), now=ctx.runtime.clock.now()
            )
            await session.commit()
        response = RedirectResponse(f"{BASE}/sign-in", status_code=303)
        clear_session_cookie(response, secure=ctx.secure_cookies)
        return response

    @router.get("/")
    async def home(request: Request) -> Response:
        ctx = console_context(request)
        try:
            async with signed_in(request, ctx.runtime) as (session, user):
                await session.commit()
        except NotSignedIn:
            return RedirectResponse(f"{BASE}/sign-in", status_code=303)
        return RedirectResponse(home_of(user), status_code=303)

    return router
