"""Signing in with email, password and authenticator code (a data function; the caller commits).

Every attempt costs one Argon2 check and one TOTP check, whether or not the email has an
account, and the refusal never says which of the three was wrong: only a locked account is told
so, with the time it opens again. Five consecutive failures lock the account for 30 minutes.
Attempts on one account are serialised by a row lock, so a code is accepted once even when two
browsers send it together.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit, totp
from services.console.accounts.passwords import (
    STANDARD_HASHER,
    dummy_hash,
    hash_password,
    needs_rehash,
    password_matches,
)
from services.console.accounts.policy import after_failure, is_locked
from services.console.accounts.sessions import new_session
from services.console.accounts.users import MAX_EMAIL_LENGTH, normalised_email
from services.console.models import ConsoleUser

REFUSED = "The email, password or code is not right. Check them and try again."
UNKNOWN_ACTOR = "(unknown email)"
"""The audit log's actor for an email without an account (what was typed is not kept)."""


@dataclass(frozen=True, slots=True)
class SignedInNow:
    """A new session: set `session_token` as the cookie; forms carry `csrf_token`."""

    user_id: uuid.UUID
    session_token: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class SignInRefused:
    """What to show the person, as is."""

    message: str
    locked_until: datetime | None = None


SignInResult = SignedInNow | SignInRefused


def locked_message(locked_until: datetime, zone: tzinfo) -> str:
    until = locked_until.astimezone(zone).strftime("%H:%M %Z").strip()
    return (
        f"This account is locked until {until} after too many failed sign-ins. "
        "Try again then, or ask your PST coordinator."
    )


async def sign_in(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    code: str,
    now: datetime,
    hasher: PasswordHasher = STANDARD_HASHER,
    zones: Mapping[str, tzinfo] | None = None,
    client: str | None = None,
) -> SignInResult:
    """Check the three and, when all are right, start a session; audit the attempt either way.

    `zones` gives each agency's time zone for the "locked until" message (UTC otherwise);
    `client` is the browser's IP address, kept in the audit row when it is one.
    """
    address = normalised_email(email)
    facts: dict[str, audit.DetailValue] = {}
    if client is not None and _is_ip_address(client):
        facts["client"] = client
    user = None
    if len(address) <= MAX_EMAIL_LENGTH:
        user = await session.scalar(
            select(ConsoleUser).where(ConsoleUser.email == address).with_for_update()
        )

    if user is None or user.disabled_at is not None or is_locked(user.locked_until, now):
        # the same work as a real check, so that the answer takes as long
        await _check_password(dummy_hash(hasher), password, hasher)
        totp.verified_step(totp.new_secret(), code, now, 0)
        if user is None:
            audit.record(
                session,
                at=now,
                actor=UNKNOWN_ACTOR,
                action="sign_in.failed",
                outcome="failed",
                detail=facts | {"reason": "unknown_email"},
            )
            return SignInRefused(REFUSED)
        if user.disabled_at is not None:
            _record(session, user, now, "sign_in.failed", "refused", facts | {"reason": "disabled"})
            return SignInRefused(REFUSED)
        assert user.locked_until is not None
        _record(session, user, now, "sign_in.locked", "refused", facts)
        return _locked(user, zones)

    password_ok = await _check_password(user.password_hash, password, hasher)
    step = totp.verified_step(user.totp_secret, code, now, user.last_totp_step)
    if not password_ok or step is None:
        reason = "password" if not password_ok else "code"
        counted = after_failure(user.failed_attempts, user.locked_until, now)
        user.failed_attempts = counted.failed_attempts
        user.locked_until = counted.locked_until
        _record(
            session,
            user,
            now,
            "sign_in.failed",
            "failed",
            facts | {"reason": reason, "failed_attempts": counted.failed_attempts},
        )
        if counted.locked_until is None:
            return SignInRefused(REFUSED)
        _record(
            session,
            user,
            now,
            "account.locked",
            "ok",
            {"until": counted.locked_until.isoformat(), "failed_attempts": user.failed_attempts},
        )
        return _locked(user, zones)

    user.failed_attempts = 0
    user.locked_until = None
    user.last_totp_step = step
    if needs_rehash(user.password_hash, hasher):
        user.password_hash = await asyncio.to_thread(hash_password, password, hasher)
    started = new_session(session, user_id=user.id, now=now)
    _record(session, user, now, "sign_in.ok", "ok", facts)
    return SignedInNow(user_id=user.id, session_token=started.token, csrf_token=started.csrf_token)


async def _check_password(stored_hash: str, password: str, hasher: PasswordHasher) -> bool:
    return await asyncio.to_thread(password_matches, stored_hash, password, hasher)


def _locked(user: ConsoleUser, zones: Mapping[str, tzinfo] | None) -> SignInRefused:
    assert user.locked_until is not None
    zone = (zones or {}).get(user.agency, UTC)
    return SignInRefused(locked_message(user.locked_until, zone), locked_until=user.locked_until)


def _record(
    session: AsyncSession,
    user: ConsoleUser,
    now: datetime,
    action: str,
    outcome: audit.Outcome,
    detail: Mapping[str, audit.DetailValue],
) -> None:
    audit.record(
        session,
        at=now,
        actor=user.name,
        action=action,
        agency=user.agency,
        user_id=user.id,
        outcome=outcome,
        detail=detail,
    )


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
