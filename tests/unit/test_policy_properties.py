"""Properties of decisions over generated valid reports for both shipped agencies."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.incident_report import Event, IncidentReport, Outcome
from shared.policy import AgencyRegistry, Status, decide, load_registry

NOW = datetime(2026, 11, 22, tzinfo=UTC)
FLAGS = (
    "department_vehicle",
    "pursuit",
    "weapon_discharged",
    "tactical_team_deployed",
    "requested_by_commander",
    "directed_by_chief",
    "consent_given",
)
MEMBER_IDS = st.sampled_from(["E1", "E2", "E3", "K1", "K2"])
OUTCOMES = st.sampled_from([outcome.value for outcome in Outcome])
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@cache
def registry() -> AgencyRegistry:
    return load_registry()


PERSONS = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("member"), "member_id": MEMBER_IDS, "outcome": OUTCOMES},
        optional={"on_duty": st.booleans()},
    ),
    st.fixed_dictionaries({"kind": st.just("public"), "outcome": OUTCOMES}),
    st.fixed_dictionaries(
        {"kind": st.just("family"), "member_id": MEMBER_IDS, "outcome": OUTCOMES}
    ),
)
# In and around the Kansas City area, so that both sides of the kcmo area rule come up.
LOCATIONS = st.fixed_dictionaries({"lat": st.floats(36.0, 41.0), "lon": st.floats(-97.0, -89.0)})
REPORT_DATA = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(["kcmo", "kck"]),
        "occurred_at": st.just("2026-11-20T22:14:00-06:00"),
        "event": st.sampled_from([event.value for event in Event]),
        "persons": st.lists(PERSONS, max_size=6),
        "additional_specialists": st.integers(0, 10),
    },
    optional={"location": LOCATIONS, **{flag: st.just(True) for flag in FLAGS}},
)


def validated(data: dict[str, Any]) -> IncidentReport:
    return IncidentReport.model_validate(data, context={"now": NOW})


def reports() -> st.SearchStrategy[IncidentReport]:
    """Valid reports for kcmo or kck."""
    return REPORT_DATA.map(validated)


def decision_of(report: IncidentReport) -> dict[str, Any]:
    return decide(report, registry().get(report.agency)).to_dict()


@PROPERTY_SETTINGS
@given(reports())
def test_activate_exactly_when_the_status_is_activate(report: IncidentReport) -> None:
    decision = decide(report, registry().get(report.agency))
    assert decision.activate is (decision.status is Status.ACTIVATE)


@PROPERTY_SETTINGS
@given(reports())
def test_specialists_only_when_activated(report: IncidentReport) -> None:
    decision = decide(report, registry().get(report.agency))
    per_incident = registry().get(report.agency).specialists.per_incident
    expected = per_incident + report.additional_specialists if decision.activate else 0
    assert decision.specialists == expected


@PROPERTY_SETTINGS
@given(reports())
def test_directed_by_chief_always_activates(report: IncidentReport) -> None:
    directed = report.model_copy(update={"directed_by_chief": True})
    assert decide(directed, registry().get(report.agency)).status is Status.ACTIVATE


@PROPERTY_SETTINGS
@given(reports(), st.randoms(use_true_random=False))
def test_the_order_of_persons_never_matters(report: IncidentReport, random: Any) -> None:
    shuffled_persons = list(report.persons)
    random.shuffle(shuffled_persons)
    shuffled = report.model_copy(update={"persons": shuffled_persons})
    assert decision_of(shuffled) == decision_of(report)


@PROPERTY_SETTINGS
@given(
    reports(),
    st.sampled_from(["death", "serious_bodily_injury"]),
    MEMBER_IDS,
    st.integers(0, 6),
)
def test_adding_a_harmed_member_never_turns_an_activation_off(
    report: IncidentReport, outcome: str, member_id: str, position: int
) -> None:
    harmed = {"kind": "member", "member_id": member_id, "outcome": outcome, "on_duty": True}
    data = report.model_dump(mode="json")
    data["persons"].insert(position, harmed)
    worse = validated(data)
    if decision_of(report)["activate"]:
        assert decision_of(worse)["activate"]
    assert set(decision_of(report)["criteria"]) <= set(decision_of(worse)["criteria"])


@PROPERTY_SETTINGS
@given(reports())
def test_every_criterion_exists_in_the_policy_and_is_listed_once_in_order(
    report: IncidentReport,
) -> None:
    decision = decision_of(report)
    policy = registry().get(report.agency).policy
    assert decision["policy"] == policy.id
    assert set(decision["criteria"]) <= policy.criterion_ids
    assert decision["criteria"] == sorted(set(decision["criteria"]))


@PROPERTY_SETTINGS
@given(reports())
def test_not_covered_exactly_when_nothing_matched_and_no_direction(report: IncidentReport) -> None:
    decision = decision_of(report)
    nothing = not decision["criteria"]
    assert (decision["status"] == "not_covered") is (nothing and not report.directed_by_chief)
    assert decision["reasons"]
