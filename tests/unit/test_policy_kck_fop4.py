"""Each criterion of kck-fop4 §B.1, as CONTRACT §4 defines it: when it matches and when not."""

from __future__ import annotations

from typing import Any

import pytest

from shared.policy import AgencyConfig
from tests.unit.policy_reports import agency, family, member, public
from tests.unit.policy_reports import matched as matched_for


def kck() -> AgencyConfig:
    return agency("kck")


def matched(**fields: Any) -> tuple[str, ...]:
    return matched_for("kck", **fields)


CASES: list[tuple[str, bool, dict[str, Any]]] = [
    # B.1.a: a member died.
    ("B.1.a", True, {"persons": [member("K1", "death")]}),
    ("B.1.a", True, {"persons": [member("K1", "death", on_duty=False)]}),
    ("B.1.a", False, {"persons": [member("K1", "serious_bodily_injury")]}),
    ("B.1.a", False, {"persons": [family("K1", "death"), public("death")]}),
    # B.1.b (consent): a member's serious illness, or a non-duty serious bodily injury.
    ("B.1.b", True, {"persons": [member("K1", "serious_illness")]}),
    ("B.1.b", True, {"persons": [member("K1", "serious_bodily_injury", on_duty=False)]}),
    ("B.1.b", False, {"persons": [member("K1", "injury", on_duty=False)]}),
    ("B.1.b", False, {"persons": [member("K1", "serious_bodily_injury", on_duty=True)]}),
    ("B.1.b", False, {"persons": [family("K1", "serious_illness")]}),
    # B.1.c: the tactical team was deployed and anyone was harmed.
    ("B.1.c", True, {"tactical_team_deployed": True, "persons": [public("death")]}),
    (
        "B.1.c",
        True,
        {"tactical_team_deployed": True, "persons": [member("K1", "serious_bodily_injury")]},
    ),
    ("B.1.c", False, {"tactical_team_deployed": True, "persons": [public("injury")]}),
    ("B.1.c", False, {"event": "tactical_deployment", "persons": [public("death")]}),
    # B.1.d: a weapon discharged, or a member injured on duty in a shooting or use of force.
    ("B.1.d", True, {"weapon_discharged": True}),
    (
        "B.1.d",
        True,
        {"event": "officer_involved_shooting", "persons": [member("K1", "injury")]},
    ),
    (
        "B.1.d",
        True,
        {"event": "use_of_force", "persons": [member("K1", "serious_bodily_injury")]},
    ),
    ("B.1.d", True, {"event": "use_of_force", "persons": [member("K1", "death")]}),
    (
        "B.1.d",
        False,
        {"event": "officer_involved_shooting", "persons": [member("K1", "injury", on_duty=False)]},
    ),
    ("B.1.d", False, {"event": "vehicle_collision", "persons": [member("K1", "injury")]}),
    (
        "B.1.d",
        False,
        {"event": "officer_involved_shooting", "persons": [member("K1", "none"), public("death")]},
    ),
    # B.1.e: a member's duty-related serious bodily injury or death on duty.
    ("B.1.e", True, {"persons": [member("K1", "serious_bodily_injury")]}),
    ("B.1.e", True, {"persons": [member("K1", "death")]}),
    ("B.1.e", False, {"persons": [member("K1", "death", on_duty=False)]}),
    ("B.1.e", False, {"persons": [member("K1", "injury")]}),
    # B.1.f: a vehicle collision in which a member was harmed.
    (
        "B.1.f",
        True,
        {
            "event": "vehicle_collision",
            "persons": [member("K1", "serious_bodily_injury", on_duty=False)],
        },
    ),
    ("B.1.f", False, {"event": "vehicle_collision", "persons": [public("death")]}),
    ("B.1.f", False, {"event": "vehicle_collision", "persons": [member("K1", "injury")]}),
    ("B.1.f", False, {"event": "vehicle_pursuit", "persons": [member("K1", "death")]}),
    # B.1.g: a family person died.
    ("B.1.g", True, {"event": "family_death", "persons": [family("K1", "death")]}),
    ("B.1.g", False, {"persons": [family("K1", "serious_bodily_injury")]}),
    ("B.1.g", False, {"persons": [member("K1", "death")]}),
    # B.1.h: a supervisor identified a crisis.
    ("B.1.h", True, {"requested_by_commander": True}),
    ("B.1.h", False, {"persons": [member("K1", "none")]}),
    # B.1.COP: directed by the chief.
    ("B.1.COP", True, {"directed_by_chief": True}),
    ("B.1.COP", False, {"requested_by_commander": True}),
]


@pytest.mark.parametrize(
    ("criterion", "expected", "fields"),
    CASES,
    ids=[f"{c}-{'match' if e else 'no-match'}-{i}" for i, (c, e, _) in enumerate(CASES)],
)
def test_criterion(criterion: str, expected: bool, fields: dict[str, Any]) -> None:
    assert (criterion in matched(**fields)) is expected


def test_every_criterion_has_a_matching_and_a_non_matching_case() -> None:
    ids = {criterion.id for criterion in kck().policy.criteria}
    assert {c for c, e, _ in CASES if e} == ids
    assert {c for c, e, _ in CASES if not e} == ids


def test_only_b_1_b_needs_consent() -> None:
    assert [c.id for c in kck().policy.criteria if c.needs_consent] == ["B.1.b"]


def test_a_pursuit_in_which_the_public_died_is_not_covered() -> None:
    assert matched(pursuit=True, persons=[member("K1", "none"), public("death")]) == ()


def test_a_member_killed_on_duty_in_a_shooting_matches_a_d_and_e() -> None:
    criteria = matched(event="officer_involved_shooting", persons=[member("K1", "death")])
    assert criteria == ("B.1.a", "B.1.d", "B.1.e")
