"""Choosing the specialists to page for an incident (CONTRACT §6.1-6.5): who may go, in what
order, and who is paged next. Plain data in, plain data out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.dispatcher.assignment_states import AssignmentState
from shared.policy.model import OnDutySpecialistRule
from shared.roster.entry import SpecialistStatus


class Ineligibility(StrEnum):
    """Why a roster entry may not be paged for this incident (CONTRACT §6.1)."""

    NOT_ACTIVE = "not_active"
    TRAINING_LAPSED = "training_lapsed"
    PHONE_UNCONFIRMED = "phone_unconfirmed"
    UNDER_INVESTIGATION = "under_investigation"
    INVOLVED_IN_INCIDENT = "involved_in_incident"
    ALREADY_ASSIGNED = "already_assigned"


@dataclass(frozen=True, slots=True)
class Specialist:
    """One roster entry (CONTRACT §5) as of the moment of choice: `on_call` and
    `training_current` already account for time (an `OFF 8H` window, a lapse date), and
    `phone_verified` says the number answered its code (issue 14). `status` is a lifecycle
    status; only `active` is paged."""

    member_id: str
    name: str
    agency: str
    phone: str
    status: str
    on_duty: bool
    on_call: bool
    training_current: bool
    under_investigation: bool
    languages: tuple[str, ...] = ()
    phone_verified: bool = False


@dataclass(frozen=True, slots=True)
class ActivationHistory:
    """What a specialist did for other incidents, computed elsewhere as of the moment of choice."""

    accepted_other_incident_within_24h: bool = False
    accepted_in_last_90_days: int = 0
    last_accepted_at: datetime | None = None
    has_open_acceptance_elsewhere: bool = False

    def __post_init__(self) -> None:
        if self.accepted_in_last_90_days < 0:
            raise ValueError("accepted_in_last_90_days cannot be negative")
        if self.last_accepted_at is not None and self.last_accepted_at.utcoffset() is None:
            raise ValueError("last_accepted_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Candidate:
    specialist: Specialist
    history: ActivationHistory

    @property
    def member_id(self) -> str:
        return self.specialist.member_id


@dataclass(frozen=True, slots=True)
class Pick:
    """One specialist to assign now, and the state the assignment starts in."""

    member_id: str
    initial_state: AssignmentState
    remind_supervisor: bool


@dataclass(frozen=True, slots=True)
class StaffingPlan:
    """The next picks, and how many of the N places no one left can fill."""

    picks: tuple[Pick, ...]
    shortfall: int

    @property
    def alert_coordinators(self) -> bool:
        """No one is left for at least one place: the coordinators must be told (§6.5)."""
        return self.shortfall > 0


def ineligibility(
    specialist: Specialist,
    *,
    involved_member_ids: Collection[str],
    already_assigned_member_ids: Collection[str],
) -> Ineligibility | None:
    """The first reason this specialist may not be paged for the incident, or None."""
    if specialist.status != SpecialistStatus.ACTIVE:
        return Ineligibility.NOT_ACTIVE
    if not specialist.training_current:
        return Ineligibility.TRAINING_LAPSED
    if not specialist.phone_verified:
        return Ineligibility.PHONE_UNCONFIRMED
    if specialist.under_investigation:
        return Ineligibility.UNDER_INVESTIGATION
    if specialist.member_id in involved_member_ids:
        return Ineligibility.INVOLVED_IN_INCIDENT
    if specialist.member_id in already_assigned_member_ids:
        return Ineligibility.ALREADY_ASSIGNED
    return None


def eligible(
    candidates: Sequence[Candidate],
    involved_member_ids: Collection[str],
    already_assigned_member_ids: Collection[str],
) -> list[Candidate]:
    """The candidates who may be paged (§6.1), in their given order.

    `involved_member_ids` are the `member_id`s of the incident's persons (members and the
    members whose family is listed); `already_assigned_member_ids` are everyone with an
    assignment to this incident in any state.
    """
    return [
        candidate
        for candidate in candidates
        if ineligibility(
            candidate.specialist,
            involved_member_ids=involved_member_ids,
            already_assigned_member_ids=already_assigned_member_ids,
        )
        is None
    ]


def busy_elsewhere_rank(history: ActivationHistory) -> int:
    """0: free; 1: accepted a page for another incident in the last 24 h; 2: holds an open
    acceptance of another incident, and so goes after everyone else."""
    if history.has_open_acceptance_elsewhere:
        return 2
    if history.accepted_other_incident_within_24h:
        return 1
    return 0


def _order_key(candidate: Candidate) -> tuple[int, bool, bool, int, float, str]:
    specialist, history = candidate.specialist, candidate.history
    last = history.last_accepted_at
    longest_since_last = float("-inf") if last is None else last.timestamp()
    return (
        busy_elsewhere_rank(history),
        specialist.on_duty,
        not specialist.on_call,
        history.accepted_in_last_90_days,
        longest_since_last,
        specialist.member_id,
    )


def rank(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates in paging order (§6.2).

    Busy elsewhere last (see `busy_elsewhere_rank`); then off-duty before on-duty; then on
    call first; then fewest accepted activations in the last 90 days; then longest since the
    last acceptance (never accepted counts as longest); then `member_id`.
    """
    return sorted(candidates, key=_order_key)


def _paging_order(ranked: Sequence[Candidate], rule: OnDutySpecialistRule) -> list[Candidate]:
    if rule is OnDutySpecialistRule.AFTER_OFF_DUTY:
        off_duty = [c for c in ranked if not c.specialist.on_duty]
        on_duty = [c for c in ranked if c.specialist.on_duty]
        return off_duty + on_duty
    return list(ranked)


def _pick(candidate: Candidate, rule: OnDutySpecialistRule) -> Pick:
    on_duty = candidate.specialist.on_duty
    needs_approval = on_duty and rule is OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT
    return Pick(
        member_id=candidate.member_id,
        initial_state=(
            AssignmentState.AWAITING_APPROVAL if needs_approval else AssignmentState.PAGED
        ),
        remind_supervisor=on_duty and rule is OnDutySpecialistRule.AFTER_OFF_DUTY,
    )


def plan_pages(
    ranked: Sequence[Candidate],
    *,
    specialists: int,
    open_assignments: int,
    on_duty_rule: OnDutySpecialistRule,
) -> StaffingPlan:
    """Who to assign now so that the incident's open assignments reach N = `specialists`.

    `ranked` is the output of `rank(eligible(...))`: nobody already assigned to the incident.
    `open_assignments` counts this incident's assignments in an open state (awaiting_approval,
    paged, calling, accepted), so never more than N are in flight. Under `after_off_duty` every
    off-duty candidate comes before any on-duty one, whatever their place in `ranked`.
    """
    if specialists < 0 or open_assignments < 0:
        raise ValueError("specialists and open_assignments cannot be negative")
    member_ids = [candidate.member_id for candidate in ranked]
    if len(set(member_ids)) != len(member_ids):
        raise ValueError("a member appears twice in the ranked list")
    places = max(0, specialists - open_assignments)
    chosen = _paging_order(ranked, on_duty_rule)[:places]
    return StaffingPlan(
        picks=tuple(_pick(candidate, on_duty_rule) for candidate in chosen),
        shortfall=places - len(chosen),
    )


REPLACED_ON: frozenset[AssignmentState] = frozenset(
    {AssignmentState.DECLINED, AssignmentState.TIMED_OUT}
)
"""An assignment that ends in one of these frees its place for the next specialist (§6.5)."""


def plan_replacement(
    closed_state: AssignmentState,
    ranked_remaining: Sequence[Candidate],
    *,
    specialists: int,
    open_assignments: int,
    on_duty_rule: OnDutySpecialistRule,
) -> StaffingPlan:
    """After a page is declined or timed out: the next specialist to page, or, when no one is
    left, a shortfall that tells the caller to alert the coordinators.

    `ranked_remaining` excludes everyone ever assigned to the incident (the one who just
    declined included); `open_assignments` is counted after the closing. Any other closing
    state (cancelled) is no reason to page someone else: an empty plan.
    """
    if closed_state not in REPLACED_ON:
        return StaffingPlan(picks=(), shortfall=0)
    return plan_pages(
        ranked_remaining,
        specialists=specialists,
        open_assignments=open_assignments,
        on_duty_rule=on_duty_rule,
    )
