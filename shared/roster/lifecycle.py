"""A specialist's life on the team as a state machine, one per policy, read from its data file
(`[lifecycle]`, see `shared/policy/README.md`). Pure: the caller reads the member's status and
facts, asks whether a step may be taken, and writes what this module answers.

A status is a plain name from the policy's list; `active` is the only one that is paged. A
transition names the statuses it leaves, the one it reaches, the section that grounds it, who
may record it, and what it needs: a document's reference (a written request, a letter, a
committee's minutes), confirmed checks (every one), one of a list of grounds (FOP #4 §E.4.a-d),
or finished training. `NEW` is the status of someone not yet on the roster.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from shared.grounds import Grounds

NEW = "new"
"""The status before the first transition: not on the roster."""
PAGEABLE = "active"
"""The one status whose specialists may be paged (CONTRACT §6.1)."""
CONTRACT_STATUSES = ("active", "inactive", "suspended", "withdrawn", "removed")
"""The statuses CONTRACT §5 names; every lifecycle has them."""
MAX_REASON = 200
MAX_DOCUMENT = 120


@dataclass(frozen=True, slots=True)
class Item:
    """A check to confirm, or one of the grounds to choose from."""

    id: str
    words: str
    section: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    id: str
    words: str
    sources: frozenset[str]
    target: str
    grounds: Grounds
    roles: frozenset[str]
    document: str | None = None
    """What the document is (`the written request`), when one must be referenced."""
    checks: tuple[Item, ...] = ()
    reasons: tuple[Item, ...] = ()
    needs_training: bool = False
    """The member's training records must show the initial training's topics (or, with no
    topics set, any session attended since the application)."""

    def leaves(self, status: str) -> bool:
        return status in self.sources


@dataclass(frozen=True, slots=True)
class TransitionRequest:
    """A step someone asks for, with what they bring."""

    transition: str
    role: str
    reason: str
    document: str | None = None
    checks: frozenset[str] = frozenset()
    grounds: str | None = None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What guards read about the member now."""

    status: str
    training_done: bool = False


class IllegalTransition(Exception):
    """The step may not be taken; `why` says so in a sentence for the person who asked."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True, slots=True)
class Lifecycle:
    statuses: tuple[str, ...]
    transitions: tuple[Transition, ...]
    imported: frozenset[str] = frozenset(CONTRACT_STATUSES)
    """The statuses a roster file may bring a new member in at (moving from a spreadsheet)."""
    words: dict[str, str] = field(default_factory=dict)
    """How each status reads in the console (`in training`)."""

    def __post_init__(self) -> None:
        known = set(self.statuses)
        missing = [status for status in CONTRACT_STATUSES if status not in known]
        if missing:
            raise ValueError(f"the lifecycle lacks the contract's statuses {missing}")
        ids: set[str] = set()
        for step in self.transitions:
            if step.id in ids:
                raise ValueError(f"transition {step.id} is defined twice")
            ids.add(step.id)
            unknown = sorted((step.sources | {step.target}) - known - {NEW})
            if unknown:
                raise ValueError(f"transition {step.id}: unknown statuses {unknown}")
            if step.target == NEW:
                raise ValueError(f"transition {step.id}: no step leads back to {NEW!r}")
        if not self.imported <= known:
            raise ValueError(f"imported: unknown statuses {sorted(self.imported - known)}")

    def status_words(self, status: str) -> str:
        return self.words.get(status, status.replace("_", " "))

    def find(self, transition_id: str) -> Transition:
        for step in self.transitions:
            if step.id == transition_id:
                return step
        raise IllegalTransition(f"there is no step {transition_id!r} in this policy's lifecycle")

    def from_status(self, status: str) -> list[Transition]:
        """Every step that leaves `status`, in the data file's order."""
        return [step for step in self.transitions if step.leaves(status)]

    def available(self, status: str, role: str) -> list[Transition]:
        """The steps `role` may record for a member in `status`."""
        return [step for step in self.from_status(status) if role in step.roles]


def check_request(
    lifecycle: Lifecycle, facts: MemberFacts, request: TransitionRequest
) -> Transition:
    """The transition asked for, when it may be taken now; `IllegalTransition` says why not."""
    step = lifecycle.find(request.transition)
    if not step.leaves(facts.status):
        raise IllegalTransition(
            f"“{step.words}” cannot follow “{lifecycle.status_words(facts.status)}”: it is "
            f"taken from {_listed(lifecycle, step.sources)} ({_cite(step.grounds)})"
        )
    if request.role not in step.roles:
        raise IllegalTransition(
            f"“{step.words}” is recorded by {_or(sorted(step.roles))}, not by a {request.role}"
        )
    reason = request.reason.strip()
    if not reason:
        raise IllegalTransition(f"“{step.words}” needs a reason")
    if len(reason) > MAX_REASON:
        raise IllegalTransition(f"the reason is longer than {MAX_REASON} characters")
    document = (request.document or "").strip()
    if step.document is not None and not document:
        raise IllegalTransition(
            f"“{step.words}” needs the reference of {step.document} ({_cite(step.grounds)})"
        )
    if len(document) > MAX_DOCUMENT:
        raise IllegalTransition(f"the document reference is longer than {MAX_DOCUMENT} characters")
    unknown_checks = request.checks - {check.id for check in step.checks}
    if unknown_checks:
        raise IllegalTransition(f"unknown checks {sorted(unknown_checks)} for “{step.words}”")
    unconfirmed = [check for check in step.checks if check.id not in request.checks]
    if unconfirmed:
        raise IllegalTransition(
            "not confirmed: "
            + "; ".join(f"{check.words} ({_cite_item(check, step)})" for check in unconfirmed)
        )
    if step.reasons:
        if request.grounds not in {item.id for item in step.reasons}:
            raise IllegalTransition(
                f"“{step.words}” needs one of its grounds: "
                + "; ".join(f"{item.id}: {item.words}" for item in step.reasons)
            )
    elif request.grounds is not None:
        raise IllegalTransition(f"“{step.words}” takes no grounds")
    if step.needs_training and not facts.training_done:
        raise IllegalTransition(
            f"“{step.words}” needs the training in the member's records first "
            f"({_cite(step.grounds)})"
        )
    return step


def import_step(lifecycle: Lifecycle, current: str, target: str) -> Transition | None:
    """The step a roster file's status brings: None when the status is unchanged (or the member
    is new, at a status `imported` allows); otherwise the one step from `current` to `target`
    that needs no checks, grounds or training. `IllegalTransition` when there is none."""
    if current == target:
        return None
    if current == NEW:
        if target in lifecycle.imported:
            return None
        raise IllegalTransition(
            f"a new member cannot start at {lifecycle.status_words(target)!r}: a roster file "
            f"brings new members in as {_listed(lifecycle, lifecycle.imported)}"
        )
    candidates = [
        step
        for step in lifecycle.from_status(current)
        if step.target == target
        and not step.checks
        and not step.reasons
        and not step.needs_training
    ]
    if not candidates:
        steps = [step for step in lifecycle.from_status(current) if step.target == target]
        how = (
            f": “{steps[0].words}” needs what only the console records"
            if steps
            else ": the lifecycle has no such step"
        )
        raise IllegalTransition(
            f"{lifecycle.status_words(current)} → {lifecycle.status_words(target)} cannot come "
            f"from a roster file{how}"
        )
    return candidates[0]


def _listed(lifecycle: Lifecycle, statuses: Iterable[str]) -> str:
    return _or(sorted(lifecycle.status_words(s) for s in statuses if s != NEW) or ["nowhere"])


def _or(words: Collection[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _cite(grounds: Grounds) -> str:
    return f"§{grounds.section}" if grounds.section else (grounds.note or "team setting")


def _cite_item(item: Item, step: Transition) -> str:
    return f"§{item.section}" if item.section else _cite(step.grounds)
