"""The states of one specialist's assignment to one incident (CONTRACT §6.6) and their moves."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class AssignmentState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    PAGED = "paged"
    CALLING = "calling"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


OPEN_STATES: frozenset[AssignmentState] = frozenset(
    {
        AssignmentState.AWAITING_APPROVAL,
        AssignmentState.PAGED,
        AssignmentState.CALLING,
        AssignmentState.ACCEPTED,
    }
)
"""Assignments that hold one of the incident's N places: never more than N at once."""

AWAITING_ANSWER_STATES: frozenset[AssignmentState] = frozenset(
    {AssignmentState.PAGED, AssignmentState.CALLING}
)
"""Assignments whose page is out: an SMS reply or a keypress answers them."""

CLOSED_STATES: frozenset[AssignmentState] = frozenset(
    {AssignmentState.DECLINED, AssignmentState.TIMED_OUT, AssignmentState.CANCELLED}
)
"""Assignments that can never move again."""

ALLOWED_TRANSITIONS: Mapping[AssignmentState, frozenset[AssignmentState]] = {
    AssignmentState.AWAITING_APPROVAL: frozenset(
        {AssignmentState.PAGED, AssignmentState.CANCELLED}
    ),
    AssignmentState.PAGED: frozenset(
        {
            AssignmentState.CALLING,
            AssignmentState.ACCEPTED,
            AssignmentState.DECLINED,
            AssignmentState.TIMED_OUT,
            AssignmentState.CANCELLED,
        }
    ),
    AssignmentState.CALLING: frozenset(
        {
            AssignmentState.ACCEPTED,
            AssignmentState.DECLINED,
            AssignmentState.TIMED_OUT,
            AssignmentState.CANCELLED,
        }
    ),
    AssignmentState.ACCEPTED: frozenset({AssignmentState.CANCELLED}),
    AssignmentState.DECLINED: frozenset(),
    AssignmentState.TIMED_OUT: frozenset(),
    AssignmentState.CANCELLED: frozenset(),
}
"""Every move the table allows; `accepted → cancelled` only when the incident is stood down."""


def can_transition(
    current: AssignmentState,
    new: AssignmentState,
    *,
    incident_stood_down: bool = False,
) -> bool:
    """Whether an assignment in `current` may move to `new`.

    Staying in the same state is not a move (False): callers read a repeat as already done.
    An accepted assignment is cancelled only when the incident is stood down.
    """
    if current is AssignmentState.ACCEPTED and new is AssignmentState.CANCELLED:
        return incident_stood_down
    return new in ALLOWED_TRANSITIONS[current]


def is_open(state: AssignmentState) -> bool:
    """Whether the assignment holds one of the incident's N places."""
    return state in OPEN_STATES
