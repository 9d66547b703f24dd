"""How the roster pages read the lifecycle and the training rule (`services.console.
roster_view`, its pure part): who is joining or returning, whose attendance a session records,
and training currency in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.console.roster_view import (
    day_words,
    days_in,
    in_progress_statuses,
    training_state,
    training_statuses,
)
from shared.policy import load_registry
from shared.roster.lifecycle import Lifecycle
from shared.roster.training_rule import FOREVER

REGISTRY = load_registry()
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # Friday 20 November, 23:00 in Chicago


def lifecycle(agency: str) -> Lifecycle:
    found = REGISTRY.get(agency).policy.lifecycle
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("agency", "joining", "training"),
    [
        (
            "kcmo",
            [
                "applicant",
                "eligible",
                "in_training",
                "reinstatement_requested",
                "reinstatement_training",
            ],
            ["in_training", "active", "reinstatement_training"],
        ),
        ("kck", ["applicant", "eligible", "in_training"], ["in_training", "active"]),
    ],
)
def test_who_is_joining_or_returning_and_whose_attendance_is_recorded(
    agency: str, joining: list[str], training: list[str]
) -> None:
    assert in_progress_statuses(lifecycle(agency)) == joining
    assert training_statuses(lifecycle(agency)) == training


def test_training_in_words() -> None:
    settings = REGISTRY.get("kcmo").policy.training
    lapse = datetime(2027, 4, 1, tzinfo=CHICAGO).astimezone(UTC)
    assert training_state(settings, None, NOW, CHICAGO).words == "no training recorded"
    current = training_state(settings, lapse, NOW, CHICAGO)
    assert (current.kind, current.words) == ("current", "current until 31 Mar 2027")
    soon = training_state(settings, lapse, lapse - timedelta(days=3), CHICAGO)
    assert (soon.kind, soon.words) == ("soon", "current until 31 Mar 2027: lapses soon")
    lapsed = training_state(settings, lapse, lapse, CHICAGO)
    assert (lapsed.kind, lapsed.words) == ("lapsed", "lapsed (current until 31 Mar 2027)")
    assert training_state(settings, FOREVER, NOW, CHICAGO).words == "current"


def test_days_are_local_and_in_english() -> None:
    assert day_words(date(2026, 6, 30)) == "30 Jun 2026"
    assert days_in(CHICAGO)(NOW) == "20 Nov 2026"
    assert days_in(CHICAGO)(date(2027, 1, 2)) == "2 Jan 2027"
