"""How many failures lock an account and for how long, and when a session ends (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

MAX_FAILURES = 5
"""Consecutive failed sign-ins that lock the account."""
LOCK_FOR = timedelta(minutes=30)
IDLE_LIMIT = timedelta(minutes=30)
"""A session nobody used for longer than this ends."""
ABSOLUTE_LIMIT = timedelta(hours=12)
"""A session older than this ends, however busy: one shift."""
TOUCH_INTERVAL = timedelta(seconds=15)
"""A session's `last_seen_at` is written again only once it is this old (spares writes)."""

SessionState = Literal["live", "idle", "expired"]


def session_state(created_at: datetime, last_seen_at: datetime, now: datetime) -> SessionState:
    """`expired` past the absolute limit, else `idle` past the idle limit, else `live`.
    Exactly at a limit the session is still live."""
    if now - created_at > ABSOLUTE_LIMIT:
        return "expired"
    if now - last_seen_at > IDLE_LIMIT:
        return "idle"
    return "live"


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Locked until `locked_until`; from that moment on, sign-in is open again."""
    return locked_until is not None and now < locked_until


@dataclass(frozen=True, slots=True)
class AfterFailure:
    """The account's `failed_attempts` and `locked_until` after one more failed sign-in."""

    failed_attempts: int
    locked_until: datetime | None
    """Set only when this failure locks the account (a lock that ran out is cleared)."""


def after_failure(
    failed_attempts: int, locked_until: datetime | None, now: datetime
) -> AfterFailure:
    """Count one more failure of an account that is not locked at `now`.

    A lock that has run out leaves a fresh count: the account gets `MAX_FAILURES` tries again.
    """
    lock_ran_out = locked_until is not None and not is_locked(locked_until, now)
    earlier = 0 if lock_ran_out else failed_attempts
    count = earlier + 1
    if count >= MAX_FAILURES:
        return AfterFailure(failed_attempts=count, locked_until=now + LOCK_FOR)
    return AfterFailure(failed_attempts=count, locked_until=None)
