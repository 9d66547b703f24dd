"""The roster's state machine (`shared.roster.lifecycle`) against both policies' data: every
step taken with all it needs, and refused, with the reason, for each need left out; who may
record it; the steps a roster file may bring (`import_step`); a lifecycle that is no lifecycle
refused when loaded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.policy import load_registry
from shared.policy.model import Grounds
from shared.roster.lifecycle import (
    CONTRACT_STATUSES,
    MAX_DOCUMENT,
    MAX_REASON,
    NEW,
    IllegalTransition,
    Item,
    Lifecycle,
    MemberFacts,
    Transition,
    TransitionRequest,
    check_request,
    import_step,
)

REGISTRY = load_registry()
AGENCIES = ("kcmo", "kck")


def lifecycle(agency: str) -> Lifecycle:
    found = REGISTRY.get(agency).policy.lifecycle
    assert found is not None, f"{agency}'s policy has a [lifecycle]"
    return found


def every_step() -> list[tuple[str, Transition]]:
    return [(agency, step) for agency in AGENCIES for step in lifecycle(agency).transitions]


def ids(case: tuple[str, Transition]) -> str:
    return f"{case[0]}-{case[1].id}"


def complete(step: Transition, role: str | None = None) -> TransitionRequest:
    """A request bringing everything the step needs."""
    return TransitionRequest(
        transition=step.id,
        role=role or sorted(step.roles)[0],
        reason="as the committee decided",
        document="ref 2026-01" if step.document else None,
        checks=frozenset(check.id for check in step.checks),
        grounds=step.reasons[0].id if step.reasons else None,
    )


def ready(step: Transition, status: str | None = None) -> MemberFacts:
    return MemberFacts(status=status or sorted(step.sources)[0], training_done=True)


def refusal(agency: str, facts: MemberFacts, request: TransitionRequest) -> str:
    with pytest.raises(IllegalTransition) as refused:
        check_request(lifecycle(agency), facts, request)
    return refused.value.why


@pytest.mark.parametrize("agency", AGENCIES)
def test_each_policy_has_the_contracts_statuses_and_words_for_its_own(agency: str) -> None:
    found = lifecycle(agency)
    assert set(CONTRACT_STATUSES) <= set(found.statuses)
    assert found.status_words("in_training") == "in training"
    assert found.status_words("active") == "active"
    assert found.from_status(NEW) == [found.find("apply")]


@pytest.mark.parametrize("case", every_step(), ids=ids)
def test_every_step_is_taken_from_each_of_its_statuses_by_each_of_its_roles(
    case: tuple[str, Transition],
) -> None:
    agency, step = case
    for status in sorted(step.sources):
        for role in sorted(step.roles):
            taken = check_request(lifecycle(agency), ready(step, status), complete(step, role))
            assert taken is step


@pytest.mark.parametrize("case", every_step(), ids=ids)
def test_every_step_is_refused_from_another_status_and_to_another_role(
    case: tuple[str, Transition],
) -> None:
    agency, step = case
    found = lifecycle(agency)
    elsewhere = [s for s in (NEW, *found.statuses) if s not in step.sources]
    for status in elsewhere:
        why = refusal(agency, ready(step, status), complete(step))
        assert why.startswith(f"“{step.words}” cannot follow “{found.status_words(status)}”")
    for role in sorted({"manager", "coordinator", "commander"} - step.roles):
        why = refusal(agency, ready(step), complete(step, role))
        assert why == f"“{step.words}” is recorded by {' or '.join(sorted(step.roles))}, " + (
            f"not by a {role}"
        )


@pytest.mark.parametrize("case", every_step(), ids=ids)
def test_every_steps_needs_are_each_required(case: tuple[str, Transition]) -> None:
    agency, step = case
    facts, request = ready(step), complete(step)
    assert "needs a reason" in refusal(agency, facts, replace(request, reason="  "))
    too_long = replace(request, reason="x" * (MAX_REASON + 1))
    assert refusal(agency, facts, too_long) == f"the reason is longer than {MAX_REASON} characters"
    long_document = replace(request, document="d" * (MAX_DOCUMENT + 1))
    assert "document reference is longer" in refusal(agency, facts, long_document)
    if step.document:
        why = refusal(agency, facts, replace(request, document=" "))
        assert why.startswith(f"“{step.words}” needs the reference of {step.document} (")
    else:
        assert check_request(lifecycle(agency), facts, replace(request, document=None)) is step
    for check in step.checks:
        why = refusal(agency, facts, replace(request, checks=request.checks - {check.id}))
        assert why.startswith("not confirmed: ") and check.words in why
        assert f"§{check.section}" in why
    unknown = replace(request, checks=request.checks | {"made_up"})
    assert refusal(agency, facts, unknown) == f"unknown checks ['made_up'] for “{step.words}”"
    if step.reasons:
        for grounds in (None, "E.4.z"):
            why = refusal(agency, facts, replace(request, grounds=grounds))
            assert why.startswith(f"“{step.words}” needs one of its grounds: ")
        for item in step.reasons:
            chosen = replace(request, grounds=item.id)
            assert check_request(lifecycle(agency), facts, chosen) is step
    else:
        why = refusal(agency, facts, replace(request, grounds="E.4.a"))
        assert why == f"“{step.words}” takes no grounds"
    untrained = replace(facts, training_done=False)
    if step.needs_training:
        assert "needs the training in the member's records first" in refusal(
            agency, untrained, request
        )
    else:
        assert check_request(lifecycle(agency), untrained, request) is step


def test_the_data_says_what_each_policy_needs() -> None:
    kcmo, kck = lifecycle("kcmo"), lifecycle("kck")
    assert [c.id for c in kcmo.find("confirm_eligibility").checks] == [
        "no_post_suspension",
        "no_investigation",
        "confidentiality",
    ]
    assert kcmo.find("pass_interview").roles == {"manager"}
    assert kck.find("pass_interview").roles == {"manager", "coordinator"}
    assert [r.id for r in kck.find("remove").reasons] == ["E.4.a", "E.4.b", "E.4.c", "E.4.d"]
    assert kcmo.find("remove").reasons == ()
    assert kcmo.find("remove").roles == {"manager"}
    assert {s.id for s in kcmo.transitions if s.needs_training} == {
        "complete_training",
        "complete_reinstatement_training",
    }
    assert {s.id for s in kck.transitions if s.needs_training} == {"complete_training"}
    assert kck.find("go_inactive").grounds == Grounds(
        section=None, note="team setting: FOP #4 has no inactive status"
    )


def test_available_lists_only_what_the_role_records_from_the_status() -> None:
    kcmo = lifecycle("kcmo")
    assert [s.id for s in kcmo.available("eligible", "manager")] == [
        "pass_interview",
        "not_selected",
        "withdraw",
        "remove",
    ]
    assert [s.id for s in kcmo.available("eligible", "coordinator")] == ["withdraw"]
    assert [s.id for s in kcmo.available("active", "coordinator")] == ["go_inactive", "withdraw"]
    assert [s.id for s in lifecycle("kck").available("active", "coordinator")] == [
        "go_inactive",
        "withdraw",
        "remove",
    ]
    assert kcmo.available("removed", "manager") == []
    assert kcmo.available("active", "commander") == []


def test_an_unknown_step_is_named() -> None:
    why = refusal("kcmo", MemberFacts("active"), TransitionRequest("promote", "manager", "x"))
    assert why == "there is no step 'promote' in this policy's lifecycle"


@pytest.mark.parametrize(
    ("agency", "current", "target", "step"),
    [
        ("kcmo", "active", "active", None),
        ("kcmo", NEW, "active", None),
        ("kcmo", NEW, "inactive", None),
        ("kcmo", "active", "withdrawn", "withdraw"),
        ("kcmo", "active", "removed", "remove"),
        ("kcmo", "inactive", "reinstatement_requested", "request_reinstatement"),
        ("kck", "active", "inactive", "go_inactive"),
        ("kck", "inactive", "active", "return_active"),
        ("kck", "suspended", "withdrawn", "withdraw"),
    ],
)
def test_import_step_finds_the_one_plain_step(
    agency: str, current: str, target: str, step: str | None
) -> None:
    found = import_step(lifecycle(agency), current, target)
    assert (found.id if found else None) == step


@pytest.mark.parametrize(
    ("agency", "current", "target", "why"),
    [
        ("kcmo", NEW, "applicant", "a new member cannot start at 'applicant'"),
        ("kcmo", NEW, "in_training", "a new member cannot start at 'in training'"),
        (
            "kcmo",
            "active",
            "inactive",
            "active → inactive cannot come from a roster file: “Placed on inactive status at "
            "their written request” needs what only the console records",
        ),
        (
            "kcmo",
            "in_training",
            "active",
            "in training → active cannot come from a roster file: “Completed the training the "
            "PST Advisory Committee requires” needs what only the console records",
        ),
        (
            "kcmo",
            "inactive",
            "active",
            "inactive → active cannot come from a roster file: the lifecycle has no such step",
        ),
        ("kcmo", "removed", "active", "the lifecycle has no such step"),
        ("kck", "active", "removed", "“Removed by the President of the Lodge or his designee”"),
        ("kck", "suspended", "active", "the lifecycle has no such step"),
    ],
)
def test_import_step_refuses_what_a_file_cannot_bring(
    agency: str, current: str, target: str, why: str
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        import_step(lifecycle(agency), current, target)
    assert why in refused.value.why


def test_a_new_member_is_told_the_statuses_a_file_brings_them_in_at() -> None:
    with pytest.raises(IllegalTransition) as refused:
        import_step(lifecycle("kck"), NEW, "eligible")
    assert refused.value.why.endswith(
        "brings new members in as active, inactive, removed, suspended or withdrawn"
    )


def _step(**changes: object) -> Transition:
    base = Transition(
        id="go",
        words="Go",
        sources=frozenset({"active"}),
        target="inactive",
        grounds=Grounds(section="X", note=None),
        roles=frozenset({"manager"}),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "steps", "why"),
    [
        (("active", "inactive", "suspended"), (), "lacks the contract's statuses"),
        (CONTRACT_STATUSES, (_step(), _step()), "transition go is defined twice"),
        (CONTRACT_STATUSES, (_step(target="gone"),), "unknown statuses ['gone']"),
        (CONTRACT_STATUSES, (_step(target=NEW),), "no step leads back to 'new'"),
    ],
)
def test_a_lifecycle_that_makes_no_sense_is_refused(
    statuses: tuple[str, ...], steps: tuple[Transition, ...], why: str
) -> None:
    with pytest.raises(ValueError, match=why.replace("[", r"\[").replace("]", r"\]")):
        Lifecycle(statuses=statuses, transitions=steps)


def test_a_file_may_bring_members_in_only_at_known_statuses() -> None:
    with pytest.raises(ValueError, match="imported: unknown statuses"):
        Lifecycle(statuses=CONTRACT_STATUSES, transitions=(), imported=frozenset({"gone"}))


def test_a_check_without_a_section_cites_its_step() -> None:
    step = _step(checks=(Item("ok", "Is fine"),))
    plain = Lifecycle(statuses=CONTRACT_STATUSES, transitions=(step,))
    with pytest.raises(IllegalTransition) as refused:
        check_request(plain, MemberFacts("active"), TransitionRequest("go", "manager", "because"))
    assert refused.value.why == "not confirmed: Is fine (§X)"
