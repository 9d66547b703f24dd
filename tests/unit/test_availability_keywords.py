"""The availability keywords' grammar (`shared.roster.availability`), the columns each change
writes, and the call state they read as. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.roster.availability import (
    MAX_OFF,
    AskStatus,
    Availability,
    GoOffCall,
    GoOnCall,
    OffCallFor,
    changed_values,
    looks_like_availability,
    parse_availability,
)

NOW = datetime(2026, 12, 8, 17, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("OFF", GoOffCall()),
        ("off", GoOffCall()),
        ("  Off \n", GoOffCall()),
        ("OFF.", GoOffCall()),
        ("ON", GoOnCall()),
        ("on!", GoOnCall()),
        ("STATUS", AskStatus()),
        (" status ", AskStatus()),
        ("OFF 8H", OffCallFor(timedelta(hours=8))),
        ("off 8h", OffCallFor(timedelta(hours=8))),
        ("OFF 30M", OffCallFor(timedelta(minutes=30))),
        ("OFF 2D", OffCallFor(timedelta(days=2))),
        ("OFF  8 H", OffCallFor(timedelta(hours=8))),
        ("OFF 8 hours", OffCallFor(timedelta(hours=8))),
        ("OFF 1 hour", OffCallFor(timedelta(hours=1))),
        ("OFF 90 min", OffCallFor(timedelta(minutes=90))),
        ("OFF 3 days", OffCallFor(timedelta(days=3))),
        ("OFF 7D", OffCallFor(timedelta(days=7))),
        ("OFF 168H", OffCallFor(timedelta(days=7))),
        ("OFF 10080M", OffCallFor(timedelta(days=7))),
        ("OFF 1M", OffCallFor(timedelta(minutes=1))),
        ("OFF 08H", OffCallFor(timedelta(hours=8))),
    ],
)
def test_keywords_and_durations(text: str, command: object) -> None:
    assert parse_availability(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "OFF 0H",
        "OFF 0M",
        "OFF 00D",
        "OFF 9D",
        "OFF 8D",
        "OFF 169H",
        "OFF 10081M",
        "OFF 99999D",
        "OFF 123456H",
        "OFFICE",
        "OFF8H",
        "OFF 8",
        "OFF H",
        "OFF -1H",
        "OFF 1.5H",
        "OFF 8X",
        "OFF 8H NOW",
        "ON 8H",
        "ONE",
        "ON CALL",
        "STATUS?",
        "STATUSES",
        "off call",
        "",
        "   ",
        "YES",
        "YES 4821",
        "123456",
        "LOG",
    ],
)
def test_other_messages_are_no_keyword(text: str) -> None:
    assert parse_availability(text) is None


@pytest.mark.parametrize(
    ("text", "attempt"),
    [
        ("OFF 9D", True),
        ("OFF 0H", True),
        ("OFF8H", True),
        ("ON 2H", True),
        ("off 8 weeks", True),
        ("OFF 8H", False),  # a keyword, not an attempt
        ("OFF", False),
        ("OFFICE", False),
        ("on my way", False),
        ("off call", False),
        ("thanks", False),
    ],
)
def test_attempts_at_a_duration_are_told_the_forms(text: str, attempt: bool) -> None:
    assert looks_like_availability(text) is attempt


@given(st.integers(min_value=1, max_value=MAX_OFF // timedelta(minutes=1)))
def test_every_minute_count_up_to_seven_days_parses_and_no_more(minutes: int) -> None:
    assert parse_availability(f"OFF {minutes}M") == OffCallFor(timedelta(minutes=minutes))
    assert parse_availability(f"OFF {minutes + 10080}M") is None


def test_an_off_call_for_nothing_or_too_long_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="7 days"):
        OffCallFor(timedelta(0))
    with pytest.raises(ValueError, match="7 days"):
        OffCallFor(MAX_OFF + timedelta(minutes=1))


def test_each_change_writes_only_its_columns() -> None:
    assert changed_values(GoOffCall(), now=NOW) == {"on_call": False, "off_call_until": None}
    assert changed_values(GoOnCall(), now=NOW) == {"on_call": True, "off_call_until": None}
    assert changed_values(OffCallFor(timedelta(hours=8)), now=NOW) == {
        "off_call_until": NOW + timedelta(hours=8)
    }, "the standing on_call is left as it was"


def test_a_temporary_off_call_ends_by_itself() -> None:
    until = NOW + timedelta(hours=8)
    standing_on = Availability(on_call=True, off_call_until=until)
    assert not standing_on.on_call_at(NOW)
    assert standing_on.off_until(NOW) == until
    assert standing_on.on_call_at(until), "on call again when it ends"
    assert standing_on.off_until(until) is None
    standing_off = Availability(on_call=False, off_call_until=until)
    assert not standing_off.on_call_at(until + timedelta(days=1))
    assert Availability(on_call=True, off_call_until=None).on_call_at(NOW)
