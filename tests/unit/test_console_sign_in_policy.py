"""Console lock-outs and session limits, at their exact boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.console.accounts.policy import (
    ABSOLUTE_LIMIT,
    IDLE_LIMIT,
    LOCK_FOR,
    MAX_FAILURES,
    after_failure,
    is_locked,
    session_state,
)
from services.console.accounts.sign_in import REFUSED, locked_message

START = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_the_limits_are_the_ones_agreed() -> None:
    assert MAX_FAILURES == 5
    assert LOCK_FOR.total_seconds() == 30 * 60
    assert IDLE_LIMIT.total_seconds() == 30 * 60
    assert ABSOLUTE_LIMIT.total_seconds() == 12 * 3600


def test_a_session_is_live_up_to_thirty_idle_minutes_and_idle_after() -> None:
    assert session_state(START, START, START) == "live"
    assert session_state(START, START, START + IDLE_LIMIT) == "live"
    assert session_state(START, START, START + IDLE_LIMIT + SECOND) == "idle"
    seen = START + timedelta(hours=2)
    assert session_state(START, seen, seen + timedelta(minutes=31)) == "idle"


def test_a_busy_session_expires_after_twelve_hours() -> None:
    end = START + ABSOLUTE_LIMIT
    assert session_state(START, end - SECOND, end) == "live"
    assert session_state(START, end, end + SECOND) == "expired"


def test_expired_wins_over_idle() -> None:
    assert session_state(START, START, START + ABSOLUTE_LIMIT + SECOND) == "expired"


def test_four_failures_count_and_the_fifth_locks_for_thirty_minutes() -> None:
    count, until = 0, None
    for expected in range(1, MAX_FAILURES):
        counted = after_failure(count, until, START)
        assert (counted.failed_attempts, counted.locked_until) == (expected, None)
        count, until = counted.failed_attempts, counted.locked_until
    fifth = after_failure(count, until, START)
    assert fifth.failed_attempts == MAX_FAILURES
    assert fifth.locked_until == START + timedelta(minutes=30)


def test_a_lock_holds_until_its_end_and_not_at_it() -> None:
    until = START + LOCK_FOR
    assert not is_locked(None, START)
    assert is_locked(until, START)
    assert is_locked(until, until - SECOND)
    assert not is_locked(until, until)


def test_after_a_lock_runs_out_the_count_starts_again() -> None:
    until = START + LOCK_FOR
    first = after_failure(MAX_FAILURES, until, until)
    assert (first.failed_attempts, first.locked_until) == (1, None)
    second = after_failure(first.failed_attempts, first.locked_until, until + SECOND)
    assert (second.failed_attempts, second.locked_until) == (2, None)


def test_the_refusal_names_no_factor_and_the_lock_message_gives_local_time() -> None:
    assert "email, password or code" in REFUSED
    message = locked_message(START + LOCK_FOR, ZoneInfo("America/Chicago"))
    assert "locked until 23:30 CST" in message
    assert "locked until 05:30 UTC" in locked_message(START + LOCK_FOR, UTC)
