"""Training currency by the policy's rule (`shared.roster.training_rule`): the quarterly rule's
quarter boundaries at local midnight in America/Chicago (summer and winter time), the once
rule, the notice before a lapse, and topics covered across sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.policy import load_registry
from shared.policy.model import Grounds
from shared.roster.training_rule import (
    FOREVER,
    TrainingRule,
    TrainingSettings,
    covers_topics,
    is_current,
    lapses_soon,
    valid_until,
)

CHICAGO = ZoneInfo("America/Chicago")
QUARTERLY = TrainingSettings(rule=TrainingRule.QUARTERLY, grounds=Grounds("IV.E.3.f", None))
ONCE = TrainingSettings(rule=TrainingRule.ONCE, grounds=Grounds("E.1.e", None))
TICK = timedelta(microseconds=1)


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHICAGO).astimezone(UTC)


@pytest.mark.parametrize(
    ("credit", "lapse"),
    [
        (date(2026, 1, 1), date(2026, 7, 1)),
        (date(2026, 2, 15), date(2026, 7, 1)),  # February: current to the end of June
        (date(2026, 3, 31), date(2026, 7, 1)),
        (date(2026, 4, 1), date(2026, 10, 1)),
        (date(2026, 6, 30), date(2026, 10, 1)),
        (date(2026, 7, 1), date(2027, 1, 1)),
        (date(2026, 9, 30), date(2027, 1, 1)),
        (date(2026, 10, 1), date(2027, 4, 1)),
        (date(2026, 12, 31), date(2027, 4, 1)),
    ],
)
def test_the_quarter_of_the_credit_and_the_next_are_covered(credit: date, lapse: date) -> None:
    until = valid_until(QUARTERLY, [credit], CHICAGO)
    assert until == local_midnight(lapse)
    assert is_current(until, until - TICK)
    assert not is_current(until, until)


def test_the_lapse_is_local_midnight_in_summer_and_winter_time() -> None:
    summer = valid_until(QUARTERLY, [date(2026, 2, 15)], CHICAGO)
    winter = valid_until(QUARTERLY, [date(2026, 7, 4)], CHICAGO)
    assert summer == datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # CDT, UTC-5
    assert winter == datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # CST, UTC-6
    # at 23:30 on 30 June in Chicago it is already 1 July in UTC: still current
    assert is_current(summer, datetime(2026, 7, 1, 4, 30, tzinfo=UTC))
    assert not is_current(summer, datetime(2026, 7, 1, 5, 0, tzinfo=UTC))


def test_the_last_credit_counts_whatever_the_order() -> None:
    credits = [date(2026, 8, 1), date(2025, 2, 1), date(2026, 4, 30)]
    assert valid_until(QUARTERLY, credits, CHICAGO) == local_midnight(date(2027, 1, 1))
    assert valid_until(QUARTERLY, reversed(credits), CHICAGO) == local_midnight(date(2027, 1, 1))


def test_no_credit_is_no_training() -> None:
    for settings in (QUARTERLY, ONCE):
        assert valid_until(settings, [], CHICAGO) is None
    assert not is_current(None, datetime(2026, 1, 1, tzinfo=UTC))
    assert not lapses_soon(QUARTERLY, None, datetime(2026, 1, 1, tzinfo=UTC))


def test_once_one_credit_is_current_for_good() -> None:
    until = valid_until(ONCE, [date(2019, 5, 2)], CHICAGO)
    assert until == FOREVER
    assert is_current(until, datetime(2099, 12, 31, tzinfo=UTC))
    assert not lapses_soon(ONCE, until, datetime(9999, 12, 30, tzinfo=UTC))


def test_lapses_soon_within_the_notice_days_and_not_after_the_lapse() -> None:
    until = local_midnight(date(2026, 7, 1))
    notice = timedelta(days=QUARTERLY.notice_days)
    assert lapses_soon(QUARTERLY, until, until - notice)
    assert not lapses_soon(QUARTERLY, until, until - notice - TICK)
    assert lapses_soon(QUARTERLY, until, until - TICK)
    assert not lapses_soon(QUARTERLY, until, until)
    shorter = TrainingSettings(
        rule=TrainingRule.QUARTERLY, grounds=QUARTERLY.grounds, notice_days=7
    )
    assert not lapses_soon(shorter, until, until - timedelta(days=8))
    assert lapses_soon(shorter, until, until - timedelta(days=7))


def test_topics_are_covered_across_sessions_whatever_their_case() -> None:
    required = ["Effective listening", "Referral and follow-up"]
    assert covers_topics(required, [["effective LISTENING "], ["Referral and follow-up", "x"]])
    assert not covers_topics(required, [["Effective listening"], ["Referral"]])
    assert not covers_topics(required, [])
    assert covers_topics([], [])
    assert covers_topics([], [["anything"]])


@pytest.mark.parametrize(("agency", "rule"), [("kcmo", "quarterly"), ("kck", "once")])
def test_each_policy_names_its_rule(agency: str, rule: str) -> None:
    settings = load_registry().get(agency).policy.training
    assert settings is not None and settings.rule == rule
    assert settings.notice_days == 30
    if agency == "kck":
        assert len(settings.initial_topics) == 5
