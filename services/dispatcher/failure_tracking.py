"""Failures to assist: when the coordinator must hear that a specialist did not answer three
pages within twelve months (FOP #4 §E.4.d).

The rule: a failure is a page that ended `declined` or `timed_out`; accepted and cancelled
pages neither count nor reset the count. Replaying a member's failures in time order, a notice
is due at a failure when the failures in the twelve months ending at it (a failure exactly
twelve months earlier is outside) number three or more, and no notice was due in those same
twelve months. So the coordinator hears once, at the third failure; later failures stay quiet
for a year after that notice, and the next notice comes at the first failure a year or more
after it with three failures in its own twelve months. The notice moments follow from the
outcomes alone, so the caller stores nothing but the outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.dispatcher.assignment_states import AssignmentState

FAILURES_BEFORE_NOTICE = 3

FAILURE_STATES: frozenset[AssignmentState] = frozenset(
    {AssignmentState.DECLINED, AssignmentState.TIMED_OUT}
)


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """How one page to the member ended."""

    at: datetime
    state: AssignmentState

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError("a page outcome's time must be timezone-aware")


def twelve_months_before(moment: datetime) -> datetime:
    """The same calendar moment a year earlier (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:
        return moment.replace(year=moment.year - 1, day=28)


def is_failure(state: AssignmentState) -> bool:
    return state in FAILURE_STATES


def _within_year_ending(at: datetime, end: datetime) -> bool:
    return twelve_months_before(end) < at <= end


def failures_in_last_12_months(outcomes: Sequence[PageOutcome], *, now: datetime) -> int:
    """Declined or unanswered pages in the twelve months ending at `now`."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return sum(
        1
        for outcome in outcomes
        if is_failure(outcome.state) and _within_year_ending(outcome.at, now)
    )


def notice_moments(outcomes: Sequence[PageOutcome]) -> list[datetime]:
    """Every failure at which the coordinator had to be told, oldest first (see module rule)."""
    failures = sorted(outcome.at for outcome in outcomes if is_failure(outcome.state))
    moments: list[datetime] = []
    for index, failure_at in enumerate(failures):
        earlier = failures[: index + 1]
        count = sum(1 for at in earlier if _within_year_ending(at, failure_at))
        quiet = not moments or not _within_year_ending(moments[-1], failure_at)
        if count >= FAILURES_BEFORE_NOTICE and quiet:
            moments.append(failure_at)
    return moments


def coordinator_must_be_told(outcomes: Sequence[PageOutcome], *, now: datetime) -> bool:
    """Whether the member's newest outcome up to `now` is a failure at which a notice is due.

    Call it once the new outcome is among `outcomes`; it answers True for exactly that one
    failure, so the caller tells the coordinator once (keyed by that outcome if it retries).
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    past = sorted((o for o in outcomes if o.at <= now), key=lambda o: o.at)
    if not past or not is_failure(past[-1].state):
        return False
    moments = notice_moments(past)
    return bool(moments) and moments[-1] == past[-1].at
