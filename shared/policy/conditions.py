"""The condition vocabulary of policy files, compiled once at load time into predicates.

A condition is a table with exactly one key:

- `all = [condition, ...]`: every one holds;
- `any = [condition, ...]`: at least one holds;
- `not = condition`: the condition does not hold;
- `person = {kind?, outcome?, on_duty?}`: some listed person matches every key given; `kind` and
  `outcome` take a name or a list of names, `on_duty` (a boolean) applies to members only;
- `event = [name, ...]` (or one name): the report's `event` is one of them;
- `flag = "name"`: the report's boolean `name` is true.

A compiled condition returns `None` when it does not hold, else the evidence: short phrases for
the decision's reasons (possibly none, e.g. for `not`), in an order that does not depend on the
order of the report's persons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from operator import attrgetter
from typing import Final, TypeVar

from shared.incident_report import Event, IncidentReport, Outcome, PersonKind
from shared.policy.errors import PolicyDataError
from shared.policy.wording import EVENT_WORDS, FLAG_WORDS, describe_person

Evidence = tuple[str, ...]
Condition = Callable[[IncidentReport], Evidence | None]

CONDITION_KEYS: Final = ("all", "any", "not", "person", "event", "flag")
PERSON_KEYS: Final = ("kind", "outcome", "on_duty")
REPORT_FLAGS: Final = tuple(FLAG_WORDS)

_EnumT = TypeVar("_EnumT", bound=StrEnum)


def compile_condition(raw: object, where: str) -> Condition:
    """Compile one condition; `where` (file, criterion, path) prefixes every error message."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise PolicyDataError(
            f"{where}: a condition is a table with exactly one of {', '.join(CONDITION_KEYS)}"
        )
    ((key, value),) = raw.items()
    here = f"{where}.{key}"
    if key == "all":
        return _all_of(_compile_list(value, here))
    if key == "any":
        return _any_of(_compile_list(value, here))
    if key == "not":
        return _none_of(compile_condition(value, here))
    if key == "person":
        return _person_matcher(value, here)
    if key == "event":
        return _event_in(frozenset(_names(value, Event, here)))
    if key == "flag":
        return _flag_set(value, here)
    raise PolicyDataError(
        f"{where}: unknown condition {key!r} (expected one of {', '.join(CONDITION_KEYS)})"
    )


def _compile_list(value: object, where: str) -> tuple[Condition, ...]:
    if not isinstance(value, list) or not value:
        raise PolicyDataError(f"{where}: expected a non-empty list of conditions")
    return tuple(compile_condition(item, f"{where}.{index}") for index, item in enumerate(value))


def _names(value: object, names: type[_EnumT], where: str) -> Iterable[_EnumT]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise PolicyDataError(f"{where}: expected a name or a non-empty list of names")
    known = {member.value: member for member in names}
    for item in items:
        if not isinstance(item, str) or item not in known:
            raise PolicyDataError(
                f"{where}: unknown value {item!r} (expected one of {', '.join(known)})"
            )
        yield known[item]


def _all_of(parts: tuple[Condition, ...]) -> Condition:
    def holds(report: IncidentReport) -> Evidence | None:
        evidence: list[str] = []
        for part in parts:
            found = part(report)
            if found is None:
                return None
            evidence.extend(found)
        return _unique(evidence)

    return holds


def _any_of(parts: tuple[Condition, ...]) -> Condition:
    def holds(report: IncidentReport) -> Evidence | None:
        evidence: list[str] = []
        matched = False
        for part in parts:
            found = part(report)
            if found is not None:
                matched = True
                evidence.extend(found)
        return _unique(evidence) if matched else None

    return holds


def _none_of(part: Condition) -> Condition:
    def holds(report: IncidentReport) -> Evidence | None:
        return () if part(report) is None else None

    return holds


def _person_matcher(value: object, where: str) -> Condition:
    if not isinstance(value, dict):
        raise PolicyDataError(f"{where}: expected a table with any of {', '.join(PERSON_KEYS)}")
    unknown = sorted(set(value) - set(PERSON_KEYS))
    if unknown:
        raise PolicyDataError(
            f"{where}: unknown key {unknown[0]!r} (expected any of {', '.join(PERSON_KEYS)})"
        )
    kinds = frozenset(_names(value["kind"], PersonKind, f"{where}.kind") if "kind" in value else ())
    outcomes = frozenset(
        _names(value["outcome"], Outcome, f"{where}.outcome") if "outcome" in value else ()
    )
    on_duty = value.get("on_duty")
    if on_duty is not None:
        if not isinstance(on_duty, bool):
            raise PolicyDataError(f"{where}.on_duty: expected true or false")
        if kinds != {PersonKind.MEMBER}:
            raise PolicyDataError(f"{where}.on_duty: applies to members only; set kind = 'member'")
    with_duty = on_duty is not None

    def holds(report: IncidentReport) -> Evidence | None:
        evidence = [
            describe_person(person, with_duty=with_duty)
            for person in report.persons
            if (not kinds or person.kind in kinds)
            and (not outcomes or person.outcome in outcomes)
            and (on_duty is None or person.on_duty is on_duty)
        ]
        return tuple(sorted(set(evidence))) if evidence else None

    return holds


def _event_in(events: frozenset[Event]) -> Condition:
    def holds(report: IncidentReport) -> Evidence | None:
        event = report.event
        return (f"the event is {EVENT_WORDS[event]}",) if event in events else None

    return holds


def _flag_set(value: object, where: str) -> Condition:
    if not isinstance(value, str) or value not in FLAG_WORDS:
        raise PolicyDataError(
            f"{where}: unknown flag {value!r} (expected one of {', '.join(REPORT_FLAGS)})"
        )
    read_flag = attrgetter(value)
    evidence = (FLAG_WORDS[value],)

    def holds(report: IncidentReport) -> Evidence | None:
        return evidence if read_flag(report) else None

    return holds


def _unique(phrases: list[str]) -> Evidence:
    return tuple(dict.fromkeys(phrases))
