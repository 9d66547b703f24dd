"""The status order, the specialist count and the reasons of a decision (CONTRACT §4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from shared.incident_report import IncidentReport
from shared.policy import AgencyRegistry, Decision, Status, decide, load_registry

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
DOWNTOWN_KCMO = {"lat": 39.0997, "lon": -94.5786}
ST_LOUIS = {"lat": 38.627, "lon": -90.1994}
ILL = {"kind": "member", "member_id": "E7", "outcome": "serious_illness"}
DIED = {"kind": "member", "member_id": "E8", "outcome": "death"}


@cache
def registry() -> AgencyRegistry:
    return load_registry()


def decision(agency: str = "kcmo", **fields: Any) -> Decision:
    data = {"agency": agency, "occurred_at": "2026-11-20T22:00:00-06:00", "event": "other"}
    report = IncidentReport.model_validate({**data, **fields}, context={"now": NOW})
    return decide(report, registry().get(agency))


def test_directed_by_chief_activates_with_nothing_else() -> None:
    result = decision(directed_by_chief=True, location=DOWNTOWN_KCMO)
    assert (result.status, result.activate, result.criteria) == (
        Status.ACTIVATE,
        True,
        ("III.E.COP",),
    )


def test_directed_by_chief_activates_outside_the_area() -> None:
    result = decision(directed_by_chief=True, location=ST_LOUIS, persons=[DIED])
    assert result.status is Status.ACTIVATE
    assert result.criteria == ("III.E.1", "III.E.COP")
    assert "outside the Kansas City metropolitan area" in result.reasons[-2]


def test_directed_by_chief_activates_without_consent() -> None:
    result = decision(directed_by_chief=True, persons=[ILL])
    assert result.status is Status.ACTIVATE
    assert result.criteria == ("III.E.5", "III.E.COP")


def test_nothing_matched_is_not_covered() -> None:
    result = decision(location=DOWNTOWN_KCMO, additional_specialists=3)
    assert (result.status, result.activate, result.criteria, result.specialists) == (
        Status.NOT_COVERED,
        False,
        (),
        0,
    )
    assert "830 §III.E" in result.reasons[0]


def test_not_covered_comes_before_outside_area() -> None:
    assert decision(location=ST_LOUIS).status is Status.NOT_COVERED


def test_a_match_outside_the_area_is_outside_area() -> None:
    result = decision(location=ST_LOUIS, persons=[DIED])
    assert (result.status, result.activate, result.specialists) == (Status.OUTSIDE_AREA, False, 0)
    assert result.criteria == ("III.E.1",)
    assert "outside the Kansas City metropolitan area (830 §III.E)" in result.reasons[1]


def test_outside_area_comes_before_consent() -> None:
    assert decision(location=ST_LOUIS, persons=[ILL], consent_given=True).status is (
        Status.OUTSIDE_AREA
    )


def test_consent_criteria_alone_await_consent() -> None:
    result = decision(location=DOWNTOWN_KCMO, persons=[ILL])
    assert (result.status, result.activate, result.specialists) == (
        Status.AWAITING_CONSENT,
        False,
        0,
    )
    assert result.reasons[1].startswith("Awaiting the affected member's express permission")
    assert "830 §III.E.5" in result.reasons[1]


def test_consent_given_activates_consent_criteria() -> None:
    result = decision(persons=[ILL], consent_given=True)
    assert (result.status, result.specialists) == (Status.ACTIVATE, 2)
    assert "express permission (830 §III.E.5)" in result.reasons[1]


def test_a_criterion_without_consent_activates_despite_a_consent_one() -> None:
    result = decision(persons=[ILL, DIED])
    assert result.status is Status.ACTIVATE
    assert result.criteria == ("III.E.1", "III.E.5")


def test_no_location_counts_as_inside_the_area() -> None:
    result = decision(persons=[DIED])
    assert result.status is Status.ACTIVATE
    assert "no location was given" in result.reasons[1]


def test_kck_has_no_area() -> None:
    result = decision("kck", location=ST_LOUIS, weapon_discharged=True)
    assert result.status is Status.ACTIVATE


def test_kck_consent_criterion_awaits_consent() -> None:
    assert decision("kck", persons=[ILL]).status is Status.AWAITING_CONSENT


@pytest.mark.parametrize(("extra", "expected"), [(0, 2), (1, 3), (10, 12)])
def test_specialists_are_the_agency_number_plus_the_extra(extra: int, expected: int) -> None:
    result = decision(persons=[DIED], additional_specialists=extra)
    assert result.specialists == expected
    assert result.reasons[-1].startswith(f"{expected} specialists: 2 per incident (830 §III.F)")


def test_kck_specialists_cite_the_team_setting() -> None:
    result = decision("kck", weapon_discharged=True, additional_specialists=1)
    assert result.specialists == 3
    assert result.reasons[-1] == (
        "3 specialists: 2 per incident (team setting; the coordinator may raise it per "
        "incident) plus 1 more authorised for this incident."
    )


def test_a_decision_for_another_agency_is_refused() -> None:
    report = IncidentReport.model_validate(
        {"agency": "kck", "occurred_at": "2026-11-20T22:00:00-06:00", "event": "other"},
        context={"now": NOW},
    )
    with pytest.raises(ValueError, match="'kck', not 'kcmo'"):
        decide(report, registry().get("kcmo"))


def test_reasons_carry_no_summary_or_address_text() -> None:
    result = decision(
        summary="Officer John Smith shot at 12 Main St",
        location={**DOWNTOWN_KCMO, "address": "Home of Jane Roe"},
        persons=[DIED, {"kind": "public", "outcome": "death"}],
        event="officer_involved_shooting",
        weapon_discharged=True,
    )
    text = " ".join(result.reasons)
    for word in ("John", "Smith", "Jane", "Roe", "Main"):
        assert word not in text
    assert "member E8 died" in text


def test_every_reason_is_a_sentence() -> None:
    result = decision(persons=[DIED], pursuit=True, requested_by_commander=True)
    assert result.criteria == ("III.E.1", "III.E.4", "III.E.6")
    assert all(reason.endswith(".") for reason in result.reasons)
    assert all(reason.startswith("830 §III.E.") for reason in result.reasons[:3])
    assert result.reasons[3] == (
        "Activated: 830 §III.E.1, §III.E.4, §III.E.6 apply; no location was given, so it counts "
        "as inside the Kansas City metropolitan area."
    )


def test_the_decision_serialises_as_the_contract_spells_it() -> None:
    result = decision(persons=[DIED])
    data = json.loads(result.to_json())
    assert list(data) == ["policy", "activate", "status", "criteria", "specialists", "reasons"]
    assert data["policy"] == "kcmo-830"
    assert data["status"] == "activate"
    assert data["criteria"] == ["III.E.1"]
    assert Decision.from_dict(data) == result
