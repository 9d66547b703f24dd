"""Choosing specialists: eligibility (§6.1), order (§6.2), how many and in what state (§6.3-6.5)."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.selection import (
    ActivationHistory,
    Candidate,
    Ineligibility,
    Pick,
    Specialist,
    eligible,
    ineligibility,
    plan_pages,
    plan_replacement,
    rank,
)
from shared.policy import OnDutySpecialistRule

NOW = datetime(2026, 11, 20, 22, 14, tzinfo=UTC)


def specialist(member_id: str, **changes: object) -> Specialist:
    base = Specialist(
        member_id=member_id,
        name=f"Name of {member_id}",
        agency="kcmo",
        phone="+18165550100",
        status="active",
        on_duty=False,
        on_call=False,
        training_current=True,
        under_investigation=False,
        phone_verified=True,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def candidate(
    member_id: str, history: ActivationHistory | None = None, **changes: object
) -> Candidate:
    return Candidate(specialist(member_id, **changes), history or ActivationHistory())


def ids(candidates: list[Candidate]) -> list[str]:
    return [c.member_id for c in candidates]


def pick_ids(picks: tuple[Pick, ...]) -> list[str]:
    return [p.member_id for p in picks]


# §6.1 eligibility


def test_an_active_trained_uninvolved_unassigned_specialist_is_eligible() -> None:
    assert ids(eligible([candidate("m1")], set(), set())) == ["m1"]


@pytest.mark.parametrize(
    "status",
    # the contract's four and some of kcmo's lifecycle (830 §IV.E): only `active` is paged
    ["inactive", "suspended", "withdrawn", "removed", "in_training", "reinstatement_training"],
)
def test_a_specialist_who_is_not_active_is_excluded(status: str) -> None:
    excluded = candidate("m1", status=status)
    assert eligible([excluded, candidate("m2")], set(), set()) == [candidate("m2")]
    assert (
        ineligibility(excluded.specialist, involved_member_ids=(), already_assigned_member_ids=())
        is Ineligibility.NOT_ACTIVE
    )


def test_a_specialist_whose_training_lapsed_is_excluded() -> None:
    excluded = candidate("m1", training_current=False)
    assert eligible([excluded, candidate("m2")], set(), set()) == [candidate("m2")]
    assert (
        ineligibility(excluded.specialist, involved_member_ids=(), already_assigned_member_ids=())
        is Ineligibility.TRAINING_LAPSED
    )


def test_a_specialist_whose_phone_is_not_confirmed_is_excluded() -> None:
    excluded = candidate("m1", phone_verified=False)
    assert eligible([excluded, candidate("m2")], set(), set()) == [candidate("m2")]
    assert (
        ineligibility(excluded.specialist, involved_member_ids=(), already_assigned_member_ids=())
        is Ineligibility.PHONE_UNCONFIRMED
    )


def test_a_specialist_under_investigation_is_excluded() -> None:
    excluded = candidate("m1", under_investigation=True)
    assert eligible([excluded, candidate("m2")], set(), set()) == [candidate("m2")]
    assert (
        ineligibility(excluded.specialist, involved_member_ids=(), already_assigned_member_ids=())
        is Ineligibility.UNDER_INVESTIGATION
    )


def test_a_specialist_listed_in_the_incidents_persons_is_excluded() -> None:
    assert ids(eligible([candidate("m1"), candidate("m2")], {"m1"}, set())) == ["m2"]
    assert (
        ineligibility(specialist("m1"), involved_member_ids={"m1"}, already_assigned_member_ids=())
        is Ineligibility.INVOLVED_IN_INCIDENT
    )


def test_a_specialist_already_assigned_to_the_incident_in_any_state_is_excluded() -> None:
    assert ids(eligible([candidate("m1"), candidate("m2")], set(), {"m1"})) == ["m2"]
    assert (
        ineligibility(specialist("m1"), involved_member_ids=(), already_assigned_member_ids=["m1"])
        is Ineligibility.ALREADY_ASSIGNED
    )


def test_on_duty_on_call_and_busy_elsewhere_do_not_make_anyone_ineligible() -> None:
    busy = ActivationHistory(has_open_acceptance_elsewhere=True, accepted_in_last_90_days=9)
    pool = [candidate("m1", busy, on_duty=True, on_call=True)]
    assert eligible(pool, set(), set()) == pool


def test_eligible_keeps_the_given_order() -> None:
    pool = [candidate("m3"), candidate("m1"), candidate("m2")]
    assert ids(eligible(pool, set(), set())) == ["m3", "m1", "m2"]


# §6.2 order: each key alone decides between two candidates that differ only in it; the
# member_ids run against the expected order so member_id can never be what decided.


def test_accepted_another_incident_within_24h_goes_after_one_who_did_not() -> None:
    recent = candidate("a", ActivationHistory(accepted_other_incident_within_24h=True))
    fresh = candidate("b")
    assert ids(rank([recent, fresh])) == ["b", "a"]


def test_an_open_acceptance_elsewhere_goes_after_one_without() -> None:
    busy = candidate("a", ActivationHistory(has_open_acceptance_elsewhere=True))
    free = candidate("b")
    assert ids(rank([busy, free])) == ["b", "a"]


def test_an_open_acceptance_elsewhere_goes_after_even_an_acceptance_within_24h() -> None:
    busy = candidate("a", ActivationHistory(has_open_acceptance_elsewhere=True))
    recent = candidate("b", ActivationHistory(accepted_other_incident_within_24h=True))
    assert ids(rank([busy, recent])) == ["b", "a"]


def test_off_duty_goes_before_on_duty() -> None:
    assert ids(rank([candidate("a", on_duty=True), candidate("b", on_duty=False)])) == ["b", "a"]


def test_on_call_goes_before_not_on_call() -> None:
    assert ids(rank([candidate("a", on_call=False), candidate("b", on_call=True)])) == ["b", "a"]


def test_fewest_accepted_activations_in_90_days_goes_first() -> None:
    many = candidate("a", ActivationHistory(accepted_in_last_90_days=3))
    few = candidate("b", ActivationHistory(accepted_in_last_90_days=1))
    assert ids(rank([many, few])) == ["b", "a"]


def test_longest_since_the_last_acceptance_goes_first() -> None:
    lately = candidate("a", ActivationHistory(last_accepted_at=NOW - timedelta(days=3)))
    long_ago = candidate("b", ActivationHistory(last_accepted_at=NOW - timedelta(days=60)))
    assert ids(rank([lately, long_ago])) == ["b", "a"]


def test_never_accepted_counts_as_longest_since_the_last_one() -> None:
    some = candidate("a", ActivationHistory(last_accepted_at=NOW - timedelta(days=3650)))
    never = candidate("b", ActivationHistory(last_accepted_at=None))
    assert ids(rank([some, never])) == ["b", "a"]


def test_member_id_breaks_a_complete_tie() -> None:
    assert ids(rank([candidate("m2"), candidate("m10"), candidate("m1")])) == ["m1", "m10", "m2"]


def test_last_acceptance_compares_instants_across_time_zones() -> None:
    # 10:00 at UTC-6 is 16:00 UTC: later than 15:00 UTC although its wall clock reads earlier.
    later = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=-6)))
    earlier = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    accepted_later = candidate("a", ActivationHistory(last_accepted_at=later))
    accepted_earlier = candidate("b", ActivationHistory(last_accepted_at=earlier))
    assert ids(rank([accepted_later, accepted_earlier])) == ["b", "a"]


def test_busy_elsewhere_outranks_every_later_key() -> None:
    busy_but_best_otherwise = candidate(
        "a", ActivationHistory(accepted_other_incident_within_24h=True), on_call=True
    )
    free_but_worst_otherwise = candidate(
        "b",
        ActivationHistory(accepted_in_last_90_days=7, last_accepted_at=NOW),
        on_duty=True,
    )
    assert ids(rank([busy_but_best_otherwise, free_but_worst_otherwise])) == ["b", "a"]


def test_duty_outranks_on_call_and_on_call_outranks_the_count() -> None:
    on_duty_on_call = candidate("a", on_duty=True, on_call=True)
    off_duty_not_on_call = candidate("b", ActivationHistory(accepted_in_last_90_days=5))
    off_duty_on_call_busy_90 = candidate(
        "c", ActivationHistory(accepted_in_last_90_days=9), on_call=True
    )
    assert ids(rank([on_duty_on_call, off_duty_not_on_call, off_duty_on_call_busy_90])) == [
        "c",
        "b",
        "a",
    ]


def test_count_outranks_the_time_since_the_last_one() -> None:
    fewer_but_recent = candidate(
        "b", ActivationHistory(accepted_in_last_90_days=1, last_accepted_at=NOW)
    )
    more_but_long_ago = candidate("a", ActivationHistory(accepted_in_last_90_days=2))
    assert ids(rank([more_but_long_ago, fewer_but_recent])) == ["b", "a"]


histories = st.builds(
    ActivationHistory,
    accepted_other_incident_within_24h=st.booleans(),
    accepted_in_last_90_days=st.integers(0, 5),
    last_accepted_at=st.none()
    | st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    has_open_acceptance_elsewhere=st.booleans(),
)
pools = st.lists(st.tuples(st.booleans(), st.booleans(), histories), min_size=0, max_size=12).map(
    lambda rows: [
        candidate(f"m{index:02d}", history, on_duty=on_duty, on_call=on_call)
        for index, (on_duty, on_call, history) in enumerate(rows)
    ]
)


@given(pools, st.randoms(use_true_random=False))
def test_rank_is_a_permutation_that_ignores_the_input_order(
    pool: list[Candidate], shuffler: random.Random
) -> None:
    shuffled = list(pool)
    shuffler.shuffle(shuffled)
    ranked = rank(pool)
    assert sorted(ids(ranked)) == sorted(ids(pool))
    assert ranked == rank(shuffled)


# §6.3-6.4 how many are paged and in what state


def test_the_first_n_are_paged() -> None:
    ranked = rank([candidate("m1"), candidate("m2"), candidate("m3")])
    plan = plan_pages(
        ranked, specialists=2, open_assignments=0, on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY
    )
    assert plan.picks == (
        Pick("m1", AssignmentState.PAGED, remind_supervisor=False),
        Pick("m2", AssignmentState.PAGED, remind_supervisor=False),
    )
    assert plan.shortfall == 0
    assert not plan.alert_coordinators


@pytest.mark.parametrize(("open_assignments", "expected"), [(0, 2), (1, 1), (2, 0), (3, 0)])
def test_never_more_than_n_are_open(open_assignments: int, expected: int) -> None:
    ranked = rank([candidate(f"m{i}") for i in range(5)])
    plan = plan_pages(
        ranked,
        specialists=2,
        open_assignments=open_assignments,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert len(plan.picks) == expected
    assert plan.shortfall == 0


@given(
    pools,
    st.integers(0, 12),
    st.integers(0, 12),
    st.sampled_from(OnDutySpecialistRule),
)
def test_picks_never_take_the_open_count_above_n(
    pool: list[Candidate], specialists: int, open_assignments: int, rule: OnDutySpecialistRule
) -> None:
    plan = plan_pages(
        rank(pool), specialists=specialists, open_assignments=open_assignments, on_duty_rule=rule
    )
    places = max(0, specialists - open_assignments)
    assert len(plan.picks) == min(places, len(pool))
    assert open_assignments + len(plan.picks) <= max(specialists, open_assignments)
    assert plan.shortfall == places - len(plan.picks)
    assert len(set(pick_ids(plan.picks))) == len(plan.picks)


def test_additional_specialists_raise_n() -> None:
    ranked = rank([candidate(f"m{i}") for i in range(5)])
    plan = plan_pages(
        ranked, specialists=4, open_assignments=1, on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY
    )
    assert pick_ids(plan.picks) == ["m0", "m1", "m2"]


def test_kck_on_duty_pick_waits_for_approval_and_off_duty_is_paged() -> None:
    ranked = rank([candidate("on", on_duty=True), candidate("off")])
    plan = plan_pages(
        ranked,
        specialists=2,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert plan.picks == (
        Pick("off", AssignmentState.PAGED, remind_supervisor=False),
        Pick("on", AssignmentState.AWAITING_APPROVAL, remind_supervisor=False),
    )


def test_kck_awaiting_approval_counts_as_open() -> None:
    ranked = rank([candidate("m3"), candidate("m4")])
    plan = plan_pages(
        ranked,
        specialists=2,
        open_assignments=2,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert plan.picks == ()


def test_kck_keeps_the_contract_order_with_an_on_duty_one_ahead_of_a_busy_off_duty_one() -> None:
    busy_off_duty = candidate("a", ActivationHistory(accepted_other_incident_within_24h=True))
    free_on_duty = candidate("b", on_duty=True)
    plan = plan_pages(
        rank([busy_off_duty, free_on_duty]),
        specialists=1,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert plan.picks == (Pick("b", AssignmentState.AWAITING_APPROVAL, remind_supervisor=False),)


def test_kcmo_on_duty_comes_only_after_every_off_duty_one() -> None:
    busy_off_duty = candidate("a", ActivationHistory(has_open_acceptance_elsewhere=True))
    free_on_duty = candidate("b", on_duty=True, on_call=True)
    other_off_duty = candidate("c", ActivationHistory(accepted_other_incident_within_24h=True))
    ranked = rank([busy_off_duty, free_on_duty, other_off_duty])
    assert ids(ranked) == ["b", "c", "a"]
    plan = plan_pages(
        ranked, specialists=2, open_assignments=0, on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY
    )
    assert pick_ids(plan.picks) == ["c", "a"]


def test_kcmo_pages_an_on_duty_one_with_the_supervisor_reminder_once_off_duty_run_out() -> None:
    ranked = rank([candidate("on", on_duty=True), candidate("off")])
    plan = plan_pages(
        ranked, specialists=2, open_assignments=0, on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY
    )
    assert plan.picks == (
        Pick("off", AssignmentState.PAGED, remind_supervisor=False),
        Pick("on", AssignmentState.PAGED, remind_supervisor=True),
    )


@given(pools, st.integers(0, 12), st.integers(0, 12))
def test_kcmo_never_picks_on_duty_while_an_off_duty_one_is_left(
    pool: list[Candidate], specialists: int, open_assignments: int
) -> None:
    plan = plan_pages(
        rank(pool),
        specialists=specialists,
        open_assignments=open_assignments,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    by_id = {c.member_id: c for c in pool}
    picked = pick_ids(plan.picks)
    off_duty_left = [c for c in pool if not c.specialist.on_duty and c.member_id not in picked]
    if any(by_id[member_id].specialist.on_duty for member_id in picked):
        assert off_duty_left == []
    assert all(pick.initial_state is AssignmentState.PAGED for pick in plan.picks)


def test_too_few_eligible_alerts_the_coordinators_with_the_shortfall() -> None:
    plan = plan_pages(
        rank([candidate("m1")]),
        specialists=3,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert pick_ids(plan.picks) == ["m1"]
    assert plan.shortfall == 2
    assert plan.alert_coordinators


def test_no_specialists_wanted_is_no_picks_and_no_alert() -> None:
    plan = plan_pages(
        rank([candidate("m1")]),
        specialists=0,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert plan.picks == ()
    assert not plan.alert_coordinators


def test_a_member_twice_in_the_ranked_list_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        plan_pages(
            [candidate("m1"), candidate("m1")],
            specialists=2,
            open_assignments=0,
            on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
        )


@pytest.mark.parametrize(("specialists", "open_assignments"), [(-1, 0), (2, -1)])
def test_negative_counts_are_refused(specialists: int, open_assignments: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        plan_pages(
            [],
            specialists=specialists,
            open_assignments=open_assignments,
            on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
        )


def test_a_naive_last_acceptance_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ActivationHistory(last_accepted_at=datetime(2026, 1, 1))


# §6.5 after a decline or a timeout


@pytest.mark.parametrize("closed", [AssignmentState.DECLINED, AssignmentState.TIMED_OUT])
def test_a_decline_or_timeout_pages_the_next_eligible_one(closed: AssignmentState) -> None:
    remaining = rank([candidate("m4"), candidate("m3")])
    plan = plan_replacement(
        closed,
        remaining,
        specialists=2,
        open_assignments=1,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert plan.picks == (Pick("m3", AssignmentState.PAGED, remind_supervisor=False),)
    assert not plan.alert_coordinators


@pytest.mark.parametrize("closed", [AssignmentState.DECLINED, AssignmentState.TIMED_OUT])
def test_when_no_one_is_left_the_coordinators_are_alerted(closed: AssignmentState) -> None:
    plan = plan_replacement(
        closed,
        [],
        specialists=2,
        open_assignments=1,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert plan.picks == ()
    assert plan.shortfall == 1
    assert plan.alert_coordinators


def test_a_kck_replacement_who_is_on_duty_waits_for_approval() -> None:
    plan = plan_replacement(
        AssignmentState.DECLINED,
        [candidate("on", on_duty=True)],
        specialists=2,
        open_assignments=1,
        on_duty_rule=OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT,
    )
    assert plan.picks == (Pick("on", AssignmentState.AWAITING_APPROVAL, remind_supervisor=False),)


def test_a_cancelled_assignment_is_not_replaced() -> None:
    plan = plan_replacement(
        AssignmentState.CANCELLED,
        [candidate("m3")],
        specialists=2,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert plan.picks == ()
    assert not plan.alert_coordinators


def test_no_replacement_while_n_are_still_open() -> None:
    plan = plan_replacement(
        AssignmentState.DECLINED,
        [candidate("m3")],
        specialists=2,
        open_assignments=2,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert plan.picks == ()
    assert not plan.alert_coordinators


def test_a_whole_round_from_roster_to_the_last_decline() -> None:
    roster = [
        candidate("involved"),
        candidate("lapsed", training_current=False),
        candidate("m1"),
        candidate("m2", ActivationHistory(accepted_in_last_90_days=1)),
        candidate("m3", ActivationHistory(accepted_in_last_90_days=2)),
    ]
    assigned: set[str] = set()
    first = plan_pages(
        rank(eligible(roster, {"involved"}, assigned)),
        specialists=2,
        open_assignments=0,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert pick_ids(first.picks) == ["m1", "m2"]
    assigned |= set(pick_ids(first.picks))
    after_m1_declines = plan_replacement(
        AssignmentState.DECLINED,
        rank(eligible(roster, {"involved"}, assigned)),
        specialists=2,
        open_assignments=1,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert pick_ids(after_m1_declines.picks) == ["m3"]
    assigned |= {"m3"}
    after_m3_times_out = plan_replacement(
        AssignmentState.TIMED_OUT,
        rank(eligible(roster, {"involved"}, assigned)),
        specialists=2,
        open_assignments=1,
        on_duty_rule=OnDutySpecialistRule.AFTER_OFF_DUTY,
    )
    assert after_m3_times_out.picks == ()
    assert after_m3_times_out.alert_coordinators
