"""Three failures to assist within twelve months (FOP #4 §E.4.d): told once, at the third."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.failure_tracking import (
    PageOutcome,
    coordinator_must_be_told,
    failures_in_last_12_months,
    notice_moments,
    twelve_months_before,
)

S = AssignmentState
START = datetime(2025, 1, 10, 3, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def told_after_each(outcomes: list[PageOutcome]) -> list[bool]:
    """Ask as the caller does: after recording each outcome, with now at that outcome."""
    return [
        coordinator_must_be_told(outcomes[: index + 1], now=outcome.at)
        for index, outcome in enumerate(outcomes)
    ]


def test_declined_and_unanswered_pages_count_and_others_do_not() -> None:
    outcomes = [
        PageOutcome(day(1), S.DECLINED),
        PageOutcome(day(2), S.TIMED_OUT),
        PageOutcome(day(3), S.ACCEPTED),
        PageOutcome(day(4), S.CANCELLED),
    ]
    assert failures_in_last_12_months(outcomes, now=day(5)) == 2


def test_only_the_twelve_months_before_now_count() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    outcomes = [
        PageOutcome(datetime(2025, 3, 1, 12, 0, tzinfo=UTC), S.DECLINED),  # exactly a year: out
        PageOutcome(datetime(2025, 3, 1, 12, 1, tzinfo=UTC), S.DECLINED),
        PageOutcome(now, S.TIMED_OUT),
        PageOutcome(now + timedelta(seconds=1), S.DECLINED),  # after now: not yet
    ]
    assert failures_in_last_12_months(outcomes, now=now) == 2


def test_the_third_failure_is_the_moment_to_tell() -> None:
    outcomes = [
        PageOutcome(day(10), S.DECLINED),
        PageOutcome(day(40), S.TIMED_OUT),
        PageOutcome(day(90), S.DECLINED),
    ]
    assert told_after_each(outcomes) == [False, False, True]


def test_later_failures_within_the_year_do_not_tell_again() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (10, 40, 90, 100, 200, 300)]
    assert told_after_each(outcomes) == [False, False, True, False, False, False]


def test_an_acceptance_in_between_does_not_reset_the_count() -> None:
    outcomes = [
        PageOutcome(day(10), S.DECLINED),
        PageOutcome(day(20), S.ACCEPTED),
        PageOutcome(day(30), S.TIMED_OUT),
        PageOutcome(day(40), S.ACCEPTED),
        PageOutcome(day(50), S.DECLINED),
    ]
    assert told_after_each(outcomes) == [False, False, False, False, True]


def test_failures_spread_over_more_than_a_year_never_tell() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (0, 200, 400, 600, 800)]
    assert told_after_each(outcomes) == [False] * 5


def test_three_again_a_year_after_the_notice_tells_again() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (0, 10, 20, 400, 410, 420)]
    assert told_after_each(outcomes) == [False, False, True, False, False, True]


def test_a_steady_failure_every_four_months_tells_once_a_year() -> None:
    months = [datetime(2025 + m // 12, m % 12 + 1, 15, tzinfo=UTC) for m in range(0, 40, 4)]
    outcomes = [PageOutcome(at, S.TIMED_OUT) for at in months]
    assert notice_moments(outcomes) == [
        datetime(2025, 9, 15, tzinfo=UTC),
        datetime(2026, 9, 15, tzinfo=UTC),
        datetime(2027, 9, 15, tzinfo=UTC),
    ]


def test_asking_after_an_acceptance_does_not_tell() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (1, 2, 3)]
    outcomes.append(PageOutcome(day(4), S.ACCEPTED))
    assert not coordinator_must_be_told(outcomes, now=day(4))


def test_outcomes_after_now_are_ignored() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (1, 2, 3, 4)]
    assert coordinator_must_be_told(outcomes, now=day(3))
    assert not coordinator_must_be_told(outcomes, now=day(4))


def test_the_order_of_the_list_does_not_matter() -> None:
    outcomes = [PageOutcome(day(n), S.DECLINED) for n in (30, 1, 2)]
    assert coordinator_must_be_told(outcomes, now=day(30))


def test_no_outcomes_tell_nothing() -> None:
    assert not coordinator_must_be_told([], now=day(0))
    assert failures_in_last_12_months([], now=day(0)) == 0


def test_twelve_months_before_a_leap_day_is_the_28th() -> None:
    leap_day = datetime(2028, 2, 29, 9, 30, tzinfo=UTC)
    assert twelve_months_before(leap_day) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)
    assert twelve_months_before(day(0)) == datetime(2024, 1, 10, 3, 0, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PageOutcome(datetime(2026, 1, 1), S.DECLINED)
    with pytest.raises(ValueError, match="timezone-aware"):
        coordinator_must_be_told([], now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        failures_in_last_12_months([], now=datetime(2026, 1, 1))


@given(
    st.lists(
        st.tuples(st.integers(0, 2000), st.sampled_from(AssignmentState)),
        max_size=25,
        unique_by=lambda row: row[0],
    )
)
def test_told_at_most_once_a_year_and_always_at_the_first_third(
    rows: list[tuple[int, AssignmentState]],
) -> None:
    outcomes = sorted((PageOutcome(day(n), state) for n, state in rows), key=lambda o: o.at)
    told = [o.at for o, yes in zip(outcomes, told_after_each(outcomes), strict=True) if yes]
    for earlier, later in itertools.pairwise(told):
        assert earlier <= twelve_months_before(later)
    for moment in told:
        assert failures_in_last_12_months(outcomes, now=moment) >= 3
    first_three = next(
        (o.at for o in outcomes if failures_in_last_12_months(outcomes, now=o.at) >= 3), None
    )
    assert (told[0] if told else None) == first_three
