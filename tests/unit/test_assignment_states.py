"""Assignment states (§6.6) and the moves between them."""

from __future__ import annotations

import itertools

import pytest

from services.dispatcher.assignment_states import (
    AWAITING_ANSWER_STATES,
    CLOSED_STATES,
    OPEN_STATES,
    AssignmentState,
    can_transition,
    is_open,
)

S = AssignmentState

ALLOWED = {
    (S.AWAITING_APPROVAL, S.PAGED),
    (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.PAGED, S.CALLING),
    (S.PAGED, S.ACCEPTED),
    (S.PAGED, S.DECLINED),
    (S.PAGED, S.TIMED_OUT),
    (S.PAGED, S.CANCELLED),
    (S.CALLING, S.ACCEPTED),
    (S.CALLING, S.DECLINED),
    (S.CALLING, S.TIMED_OUT),
    (S.CALLING, S.CANCELLED),
}


def test_the_states_are_the_contracts_words() -> None:
    assert [state.value for state in AssignmentState] == [
        "awaiting_approval",
        "paged",
        "calling",
        "accepted",
        "declined",
        "timed_out",
        "cancelled",
    ]


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED))
def test_allowed_moves(current: AssignmentState, new: AssignmentState) -> None:
    assert can_transition(current, new)
    assert can_transition(current, new, incident_stood_down=True)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        pair
        for pair in itertools.product(AssignmentState, repeat=2)
        if pair not in ALLOWED and pair != (S.ACCEPTED, S.CANCELLED)
    ],
)
def test_every_other_move_is_refused(current: AssignmentState, new: AssignmentState) -> None:
    assert not can_transition(current, new)
    assert not can_transition(current, new, incident_stood_down=True)


def test_an_accepted_assignment_is_cancelled_only_when_the_incident_is_stood_down() -> None:
    assert not can_transition(S.ACCEPTED, S.CANCELLED)
    assert can_transition(S.ACCEPTED, S.CANCELLED, incident_stood_down=True)


def test_awaiting_approval_is_never_answered_directly() -> None:
    assert not can_transition(S.AWAITING_APPROVAL, S.ACCEPTED)
    assert not can_transition(S.AWAITING_APPROVAL, S.CALLING)


def test_open_states_hold_a_place() -> None:
    assert {S.AWAITING_APPROVAL, S.PAGED, S.CALLING, S.ACCEPTED} == OPEN_STATES
    assert [state for state in AssignmentState if is_open(state)] == [
        S.AWAITING_APPROVAL,
        S.PAGED,
        S.CALLING,
        S.ACCEPTED,
    ]


def test_closed_states_never_move_and_are_not_open() -> None:
    assert {S.DECLINED, S.TIMED_OUT, S.CANCELLED} == CLOSED_STATES
    for closed in CLOSED_STATES:
        assert not is_open(closed)
        assert not any(
            can_transition(closed, new, incident_stood_down=True) for new in AssignmentState
        )


def test_only_a_page_that_is_out_awaits_an_answer() -> None:
    assert {S.PAGED, S.CALLING} == AWAITING_ANSWER_STATES
