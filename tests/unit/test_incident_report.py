"""Incident report v1 validation (CONTRACT §3) and the one-line error helper."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from shared.incident_report import IncidentReport, Outcome, PersonKind, validation_error_line

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


def report_data(**fields: Any) -> dict[str, Any]:
    return {
        "agency": "kcmo",
        "occurred_at": "2026-11-20T22:00:00-06:00",
        "event": "other",
        **fields,
    }


def validate(data: dict[str, Any]) -> IncidentReport:
    return IncidentReport.model_validate(data, context={"now": NOW})


def error_line(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        validate(data)
    return validation_error_line(caught.value)


def test_a_minimal_report_takes_the_defaults() -> None:
    report = validate(report_data())

    assert report.persons == []
    assert report.location is None
    assert not any(
        [
            report.department_vehicle,
            report.pursuit,
            report.weapon_discharged,
            report.tactical_team_deployed,
            report.requested_by_commander,
            report.directed_by_chief,
            report.consent_given,
        ]
    )
    assert report.additional_specialists == 0


def test_a_full_report_validates_from_json_text() -> None:
    data = report_data(
        external_id="KC-26-000101",
        location={"lat": 39.0997, "lon": -94.5786, "address": "12th St & Grand Blvd"},
        summary="Shots fired",
        event="officer_involved_shooting",
        persons=[
            {"kind": "member", "member_id": "E1", "outcome": "none"},
            {"kind": "public", "outcome": "death"},
            {"kind": "family", "member_id": "E2", "outcome": "death"},
        ],
        weapon_discharged=True,
        additional_specialists=10,
    )

    report = IncidentReport.model_validate_json(json.dumps(data), context={"now": NOW})

    assert report.persons[0].on_duty is True
    assert report.persons[1].kind is PersonKind.PUBLIC
    assert report.persons[2].outcome is Outcome.DEATH
    assert report.location is not None and report.location.lat == 39.0997


def test_an_unknown_field_is_named() -> None:
    assert error_line(report_data(pursuit_flag=True)) == (
        "pursuit_flag: Extra inputs are not permitted"
    )


def test_an_unknown_field_of_a_person_is_named() -> None:
    person = {"kind": "public", "outcome": "death", "name": "Jane Doe"}
    assert error_line(report_data(persons=[person])).startswith("persons.0.name: Extra inputs")


def test_a_naive_timestamp_is_rejected() -> None:
    assert error_line(report_data(occurred_at="2026-11-20T22:00:00")).startswith(
        "occurred_at: Input should be an RFC 3339 timestamp with a UTC offset"
    )


def test_a_naive_datetime_object_is_rejected() -> None:
    line = error_line(report_data(occurred_at=datetime(2026, 11, 20, 22, 0)))
    assert line.startswith("occurred_at: ")


@pytest.mark.parametrize("value", ["yesterday", "2026-11-20", 1763700000, "2026-11-20T22:00-06:00"])
def test_a_timestamp_that_is_not_rfc_3339_is_rejected(value: object) -> None:
    assert error_line(report_data(occurred_at=value)).startswith("occurred_at: ")


def test_more_than_five_minutes_in_the_future_is_rejected() -> None:
    later = (NOW + timedelta(minutes=5, seconds=1)).isoformat()
    assert error_line(report_data(occurred_at=later)) == (
        "occurred_at: must be at most 5 minutes in the future"
    )


def test_up_to_five_minutes_in_the_future_is_accepted() -> None:
    report = validate(report_data(occurred_at=(NOW + timedelta(minutes=5)).isoformat()))
    assert report.occurred_at == NOW + timedelta(minutes=5)


def test_now_defaults_to_the_real_clock() -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError, match="occurred_at"):
        IncidentReport.model_validate(report_data(occurred_at=future))
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert IncidentReport.model_validate(report_data(occurred_at=past)).occurred_at.tzinfo


def test_a_bad_event_names_the_field_and_the_choices() -> None:
    line = error_line(report_data(event="shooting"))
    assert line.startswith("event: Input should be 'officer_involved_shooting', ")


def test_a_bad_outcome_names_the_person_field() -> None:
    line = error_line(report_data(persons=[{"kind": "public", "outcome": "dead"}]))
    assert line.startswith("persons.0.outcome: Input should be 'death', ")


@pytest.mark.parametrize(
    "field",
    [
        "department_vehicle",
        "pursuit",
        "weapon_discharged",
        "tactical_team_deployed",
        "requested_by_commander",
        "directed_by_chief",
        "consent_given",
    ],
)
@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_a_string_or_number_is_not_a_bool(field: str, value: object) -> None:
    assert error_line(report_data(**{field: value})) == (
        f"{field}: Input should be a valid boolean"
    )


def test_a_string_is_not_a_bool_in_json_either() -> None:
    with pytest.raises(ValidationError, match="consent_given"):
        IncidentReport.model_validate_json(
            json.dumps(report_data(consent_given="true")), context={"now": NOW}
        )


@pytest.mark.parametrize("value", [11, -1])
def test_additional_specialists_is_bounded(value: int) -> None:
    assert error_line(report_data(additional_specialists=value)).startswith(
        "additional_specialists: Input should be"
    )


@pytest.mark.parametrize("value", [1.5, 1.0, "1", True])
def test_additional_specialists_is_a_strict_int(value: object) -> None:
    assert error_line(report_data(additional_specialists=value)) == (
        "additional_specialists: Input should be a valid integer"
    )


def test_external_id_is_at_most_64_characters() -> None:
    assert validate(report_data(external_id="x" * 64)).external_id == "x" * 64
    assert error_line(report_data(external_id="x" * 65)) == (
        "external_id: String should have at most 64 characters"
    )


def test_summary_is_at_most_2000_characters() -> None:
    assert error_line(report_data(summary="x" * 2001)).startswith("summary: String should have")


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ({"lat": 90.5, "lon": 0}, "location.lat"),
        ({"lat": 0, "lon": -180.1}, "location.lon"),
        ({"lat": "39.1", "lon": -94.5}, "location.lat"),
        ({"lat": 39.1}, "location.lon"),
        ({"lat": 39.1, "lon": -94.5, "address": "x" * 501}, "location.address"),
        ({"lat": 39.1, "lon": -94.5, "city": "KC"}, "location.city"),
    ],
)
def test_location_is_checked(location: dict[str, Any], field: str) -> None:
    assert error_line(report_data(location=location)).startswith(f"{field}: ")


def test_an_integer_coordinate_is_a_number() -> None:
    report = validate(report_data(location={"lat": 39, "lon": -94}))
    assert report.location is not None and report.location.lat == 39.0


def test_a_member_needs_a_member_id() -> None:
    assert error_line(report_data(persons=[{"kind": "member", "outcome": "death"}])) == (
        "persons.0.member_id: member_id is required for a member (their own id)"
    )


def test_a_family_person_needs_the_member_id_of_their_member() -> None:
    line = error_line(report_data(persons=[{"kind": "family", "outcome": "death"}]))
    assert line.startswith("persons.0.member_id: member_id is required for a family person")


def test_a_public_person_has_no_member_id() -> None:
    person = {"kind": "public", "member_id": "E1", "outcome": "death"}
    assert error_line(report_data(persons=[person])) == (
        "persons.0.member_id: a public person has no member_id"
    )


@pytest.mark.parametrize("kind", ["public", "family"])
def test_only_a_member_has_on_duty(kind: str) -> None:
    person = {"kind": kind, "outcome": "death", "on_duty": False}
    if kind == "family":
        person["member_id"] = "E1"
    assert error_line(report_data(persons=[person])).startswith("persons.0.on_duty: only a member")


def test_a_member_is_on_duty_unless_told_otherwise() -> None:
    persons = [
        {"kind": "member", "member_id": "E1", "outcome": "injury"},
        {"kind": "member", "member_id": "E2", "outcome": "injury", "on_duty": False},
    ]
    report = validate(report_data(persons=persons))
    assert [person.on_duty for person in report.persons] == [True, False]


def test_persons_are_bounded() -> None:
    persons = [{"kind": "public", "outcome": "none"}] * 201
    assert error_line(report_data(persons=persons)).startswith("persons: List should have at most")


def test_the_agency_must_be_a_slug() -> None:
    assert error_line(report_data(agency="KC MO")).startswith("agency: String should match")


def test_the_error_line_is_one_line_and_caps_the_list() -> None:
    line = error_line({"agency": 5, "event": "x", "a": 1, "b": 2, "c": 3})
    assert "\n" not in line
    assert line.startswith("agency: Input should be a valid string; occurred_at: Field required")
    assert line.endswith("; and 3 more")


def test_invalid_json_gives_one_line() -> None:
    with pytest.raises(ValidationError) as caught:
        IncidentReport.model_validate_json("{not json")
    assert validation_error_line(caught.value).startswith("Invalid JSON: ")


def test_a_report_is_immutable() -> None:
    report = validate(report_data())
    with pytest.raises(ValidationError):
        report.consent_given = True  # type: ignore[misc]


def test_an_agency_outside_the_known_slugs_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        IncidentReport.model_validate(
            report_data(agency="nyc"), context={"now": NOW, "agencies": ("kck", "kcmo")}
        )
    assert validation_error_line(caught.value) == (
        "agency: unknown agency 'nyc' (known: kck, kcmo)"
    )
    known = IncidentReport.model_validate(report_data(), context={"agencies": ("kcmo",)})
    assert known.agency == "kcmo"
