"""Signed-in browsers: the cookie's token names a session row (only its SHA-256 is stored).

Data functions: they change rows in the caller's unit of work and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit
from services.console.accounts.policy import TOUCH_INTERVAL, session_state
from services.console.models import ConsoleSession, ConsoleUser
from shared.policy import Role

MAX_TOKEN_LENGTH = 128
"""Longer than any token `new_session` makes: refused without a query."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a live session belongs to, and the token forms must send back (CSRF)."""

    user_id: uuid.UUID
    agency: str
    role: Role
    name: str
    email: str
    csrf_token: str
    token_hash: str


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    """The cookie's value: shown to the browser once, never stored."""
    csrf_token: str


def token_hash(token: str) -> str:
    """What is stored of a session token: tokens are 256-bit random values, so SHA-256 is
    enough (no salt, no stretching) and lets a request find its session by index."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(session: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> NewSession:
    """Add a session row for a user who just signed in."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=token_hash(token),
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
        )
    )
    return NewSession(token=token, csrf_token=csrf_token)


async def current_session(session: AsyncSession, *, token: str, now: datetime) -> SignedIn | None:
    """The signed-in user of the cookie `token`, or None.

    A session idle past `IDLE_LIMIT`, older than `ABSOLUTE_LIMIT`, or of a disabled user is
    ended here (`ended_at`, `end_reason`); otherwise `last_seen_at` moves to `now` (written at
    most every `TOUCH_INTERVAL`). The caller commits.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = await _open_session(session, token)
    if row is None:
        return None
    stored, user = row
    state = session_state(stored.created_at, stored.last_seen_at, now)
    end_reason = "disabled" if user.disabled_at is not None else state
    if end_reason != "live":
        stored.ended_at = now
        stored.end_reason = end_reason
        audit.record(
            session,
            at=now,
            actor=user.name,
            action="session.ended",
            agency=user.agency,
            user_id=user.id,
            detail={"reason": end_reason},
        )
        return None
    if now - stored.last_seen_at >= TOUCH_INTERVAL:
        stored.last_seen_at = now
    return SignedIn(
        user_id=user.id,
        agency=user.agency,
        role=Role(user.role),
        name=user.name,
        email=user.email,
        csrf_token=stored.csrf_token,
        token_hash=stored.token_hash,
    )


async def sign_out(session: AsyncSession, *, token: str, now: datetime) -> bool:
    """End the session of `token`; False when there was no live one. The caller commits."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    row = await _open_session(session, token)
    if row is None:
        return False
    stored, user = row
    stored.ended_at = now
    stored.end_reason = "signed_out"
    audit.record(
        session, at=now, actor=user.name, action="sign_out", agency=user.agency, user_id=user.id
    )
    return True


async def _open_session(
    session: AsyncSession, token: str
) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The session of `token` that has not ended, with its user."""
    row = (
        await session.execute(
            select(ConsoleSession, ConsoleUser)
            .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
            .where(
                ConsoleSession.token_hash == token_hash(token), ConsoleSession.ended_at.is_(None)
            )
        )
    ).one_or_none()
    if row is None:
        return None
    stored, user = row
    return stored, user


def csrf_ok(signed_in: SignedIn, submitted: str | None) -> bool:
    """Whether a form's CSRF token is the session's (compared in constant time)."""
    if not submitted:
        return False
    return hmac.compare_digest(signed_in.csrf_token.encode(), submitted.encode())
