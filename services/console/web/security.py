"""Who is signed in, what they may do, and the headers every console answer carries.

The session cookie is HttpOnly and SameSite=Strict (Secure when the console is reached over
https); it holds a random token of which only the hash is stored. Every form carries the
session's CSRF token; the sign-in form, before any session exists, carries one that is also in
a short-lived cookie (double submit). The Content-Security-Policy allows scripts, styles and
connections from the console itself only: no inline script or style anywhere.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts.policy import session_state
from services.console.accounts.sessions import SignedIn, csrf_ok, current_session, token_hash
from services.console.models import ConsoleSession
from shared.db.unit_of_work import unit_of_work
from shared.errors import CallerError, Forbidden
from shared.runtime import ServiceRuntime

SESSION_COOKIE = "pst_console"
SIGN_IN_COOKIE = "pst_console_sign_in"
COOKIE_PATH = "/console"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # never leaves the console; the error page goes Back
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}


class NotSignedIn(CallerError):
    """No live session: pages send the browser to the sign-in form."""

    status_code = 401

    def __init__(self, detail: str = "sign in first") -> None:
        super().__init__(detail)


class BadCsrfToken(CallerError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "the form was missing its security token or it did not match your session: "
            "nothing was changed; reload the page and try again"
        )


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith(f"{COOKIE_PATH}/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure
    )


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token: the cookie's, or a new one (set it with
    `set_sign_in_cookie`)."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def set_sign_in_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=3600,
    )


def sign_in_csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(SIGN_IN_COOKIE)
    return bool(cookie and submitted) and hmac.compare_digest(cookie or "", submitted or "")


@asynccontextmanager
async def signed_in(
    request: Request, runtime: ServiceRuntime
) -> AsyncIterator[tuple[AsyncSession, SignedIn]]:
    """A unit of work for a signed-in person's request: the session is checked (and its
    idle timer restarted) in the same transaction as the request's reads and writes, which the
    caller commits. Raises NotSignedIn when the session is missing, idle or too old."""
    token = request.cookies.get(SESSION_COOKIE)
    async with unit_of_work(runtime.sessions) as session:
        user = None
        if token:
            user = await current_session(session, token=token, now=runtime.clock.now())
        if user is None:
            await session.commit()  # a session that just ended is kept as ended
            raise NotSignedIn()
        yield session, user


def require_role(user: SignedIn, roles: Collection[str], what: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"a {user.role} may not {what}")


def require_csrf(user: SignedIn, submitted: object) -> None:
    if not isinstance(submitted, str) or not csrf_ok(user, submitted):
        raise BadCsrfToken()


async def still_live(session: AsyncSession, token: str | None, now: datetime) -> bool:
    """Whether a session is still live, without counting this as activity (live streams
    ask this: an open board is not someone using the console)."""
    if not token:
        return False
    row = await session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token))
    )
    if row is None or row.ended_at is not None:
        return False
    return session_state(row.created_at, row.last_seen_at, now) == "live"
