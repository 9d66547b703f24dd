"""Each criterion of kcmo-830 §III.E, as CONTRACT §4 defines it: when it matches and when not."""

from __future__ import annotations

from typing import Any

import pytest

from shared.incident_report import IncidentReport
from shared.policy import AgencyConfig, decide
from tests.unit.policy_reports import NOW, agency, family, member, public
from tests.unit.policy_reports import matched as matched_for


def kcmo() -> AgencyConfig:
    return agency("kcmo")


def matched(**fields: Any) -> tuple[str, ...]:
    return matched_for("kcmo", **fields)


CASES: list[tuple[str, bool, dict[str, Any]]] = [
    # III.E.1: a member died, or suffered a duty-related serious bodily injury.
    ("III.E.1", True, {"persons": [member("E1", "death")]}),
    ("III.E.1", True, {"persons": [member("E1", "death", on_duty=False)]}),
    ("III.E.1", True, {"persons": [member("E1", "serious_bodily_injury")]}),
    ("III.E.1", False, {"persons": [member("E1", "serious_bodily_injury", on_duty=False)]}),
    ("III.E.1", False, {"persons": [member("E1", "injury")]}),
    ("III.E.1", False, {"persons": [member("E1", "serious_illness")]}),
    ("III.E.1", False, {"persons": [family("E1", "death"), public("death")]}),
    # III.E.2: a public person was harmed and a member is listed (the encounter).
    ("III.E.2", True, {"persons": [member("E1", "none"), public("death")]}),
    ("III.E.2", True, {"persons": [public("serious_bodily_injury"), member("E1", "injury")]}),
    ("III.E.2", False, {"persons": [public("death")]}),
    ("III.E.2", False, {"persons": [member("E1", "none"), public("injury")]}),
    ("III.E.2", False, {"persons": [member("E1", "none"), family("E1", "death")]}),
    # III.E.3: a vehicle collision, a department vehicle, and a member or public person harmed.
    (
        "III.E.3",
        True,
        {
            "event": "vehicle_collision",
            "department_vehicle": True,
            "persons": [public("serious_bodily_injury")],
        },
    ),
    (
        "III.E.3",
        True,
        {
            "event": "vehicle_collision",
            "department_vehicle": True,
            "persons": [member("E1", "death", on_duty=True)],
        },
    ),
    (
        "III.E.3",
        False,
        {"event": "vehicle_collision", "persons": [public("serious_bodily_injury")]},
    ),
    (
        "III.E.3",
        False,
        {"event": "vehicle_pursuit", "department_vehicle": True, "persons": [public("death")]},
    ),
    (
        "III.E.3",
        False,
        {"event": "vehicle_collision", "department_vehicle": True, "persons": [public("injury")]},
    ),
    (
        "III.E.3",
        False,
        {
            "event": "vehicle_collision",
            "department_vehicle": True,
            "persons": [family("E1", "death")],
        },
    ),
    # III.E.4: a pursuit in which anyone was harmed.
    ("III.E.4", True, {"pursuit": True, "persons": [public("death")]}),
    (
        "III.E.4",
        True,
        {"pursuit": True, "persons": [member("E1", "serious_bodily_injury", on_duty=False)]},
    ),
    ("III.E.4", False, {"pursuit": True, "persons": [public("injury"), member("E1", "none")]}),
    ("III.E.4", False, {"event": "vehicle_pursuit", "persons": [public("death")]}),
    # III.E.5 (consent): a member's serious illness, or a member's non-duty injury.
    ("III.E.5", True, {"persons": [member("E1", "serious_illness")]}),
    ("III.E.5", True, {"persons": [member("E1", "serious_bodily_injury", on_duty=False)]}),
    ("III.E.5", True, {"persons": [member("E1", "injury", on_duty=False)]}),
    ("III.E.5", False, {"persons": [member("E1", "injury", on_duty=True)]}),
    ("III.E.5", False, {"persons": [member("E1", "serious_bodily_injury", on_duty=True)]}),
    ("III.E.5", False, {"persons": [member("E1", "death", on_duty=False)]}),
    ("III.E.5", False, {"persons": [family("E1", "serious_illness"), public("injury")]}),
    # III.E.6: the on-scene commander asked for the team.
    ("III.E.6", True, {"requested_by_commander": True}),
    ("III.E.6", False, {"persons": [member("E1", "none")]}),
    # III.E.COP: directed by the chief.
    ("III.E.COP", True, {"directed_by_chief": True}),
    ("III.E.COP", False, {"requested_by_commander": True}),
]


@pytest.mark.parametrize(
    ("criterion", "expected", "fields"),
    CASES,
    ids=[f"{c}-{'match' if e else 'no-match'}-{i}" for i, (c, e, _) in enumerate(CASES)],
)
def test_criterion(criterion: str, expected: bool, fields: dict[str, Any]) -> None:
    assert (criterion in matched(**fields)) is expected


def test_every_criterion_has_a_matching_and_a_non_matching_case() -> None:
    ids = {criterion.id for criterion in kcmo().policy.criteria}
    assert {c for c, e, _ in CASES if e} == ids
    assert {c for c, e, _ in CASES if not e} == ids


def test_only_iii_e_5_needs_consent() -> None:
    assert [c.id for c in kcmo().policy.criteria if c.needs_consent] == ["III.E.5"]


def test_an_empty_report_matches_nothing() -> None:
    assert matched() == ()


def test_a_line_of_duty_pursuit_crash_matches_every_criterion_that_applies() -> None:
    criteria = matched(
        event="vehicle_collision",
        department_vehicle=True,
        pursuit=True,
        persons=[member("E1", "death"), public("serious_bodily_injury")],
    )
    assert criteria == ("III.E.1", "III.E.2", "III.E.3", "III.E.4")


def test_reasons_quote_the_section_and_name_the_member_id() -> None:
    report = IncidentReport.model_validate(
        {
            "agency": "kcmo",
            "occurred_at": "2026-11-20T22:00:00-06:00",
            "event": "line_of_duty_death",
            "persons": [member("E1002", "death")],
        },
        context={"now": NOW},
    )
    reasons = decide(report, kcmo()).reasons
    assert reasons[0] == (
        "830 §III.E.1: Death or serious bodily injury of any member — member E1002 died."
    )
