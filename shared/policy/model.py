"""Policies, agencies and decisions as plain immutable values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shared.grounds import Grounds as Grounds  # the policy's rules are grounded by it
from shared.policy.area import Area
from shared.policy.conditions import Condition

if TYPE_CHECKING:  # the roster imports the policy package; these are for types only
    from shared.roster.lifecycle import Lifecycle
    from shared.roster.training_rule import TrainingSettings


class Status(StrEnum):
    """The outcome of a decision (CONTRACT §4)."""

    ACTIVATE = "activate"
    AWAITING_CONSENT = "awaiting_consent"
    OUTSIDE_AREA = "outside_area"
    NOT_COVERED = "not_covered"


class Role(StrEnum):
    """Who holds a token (CONTRACT §1)."""

    CHIEF = "chief"
    MANAGER = "manager"
    COORDINATOR = "coordinator"
    COMMANDER = "commander"
    SUPERVISOR = "supervisor"


class OnDutySpecialistRule(StrEnum):
    """When an on-duty specialist may be paged (CONTRACT §2, §6)."""

    AFTER_OFF_DUTY = "after_off_duty"
    AFTER_BUREAU_DIRECTOR_CONSULT = "after_bureau_director_consult"


class OvertimeRule(StrEnum):
    """Whether an activated specialist is eligible for overtime (CONTRACT §2)."""

    WHEN_ACTIVATED_BY_MANAGER = "when_activated_by_manager"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One situation in which the policy activates the team."""

    id: str
    words: str
    needs_consent: bool
    condition: Condition


@dataclass(frozen=True, slots=True)
class Policy:
    """A peer support policy; `criteria` are sorted by id, the order decisions list them in."""

    id: str
    name: str
    cite: str
    criteria_section: str
    criteria: tuple[Criterion, ...]
    lifecycle: Lifecycle | None = None
    """A specialist's steps on the team (issue 14); None: the contract's statuses only."""
    training: TrainingSettings | None = None
    """How training records make training current; None: it never is."""

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.criteria, key=lambda criterion: criterion.id))
        object.__setattr__(self, "criteria", ordered)

    @property
    def criterion_ids(self) -> frozenset[str]:
        return frozenset(criterion.id for criterion in self.criteria)


@dataclass(frozen=True, slots=True)
class AreaRule:
    """The area the policy limits activation to, unless the chief directs otherwise."""

    file: str
    name: str
    area: Area
    grounds: Grounds


@dataclass(frozen=True, slots=True)
class SpecialistCount:
    """How many specialists an activated incident gets before any authorised extra."""

    per_incident: int
    grounds: Grounds


@dataclass(frozen=True, slots=True)
class OnDutySpecialists:
    """How on-duty specialists are treated when paging."""

    rule: OnDutySpecialistRule
    remind_supervisor: bool
    grounds: Grounds


@dataclass(frozen=True, slots=True)
class Overtime:
    """Whether an activated specialist is eligible for overtime."""

    rule: OvertimeRule
    grounds: Grounds


@dataclass(frozen=True, slots=True)
class RolePermission:
    """Which token roles may set a report field."""

    roles: frozenset[Role]
    grounds: Grounds

    def allows(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """Statistics and retention (issue 13): counts from 1 to `small_cell_threshold - 1` are
    shown as "<5" to the chief (830 §IV.D.1); an incident's facts (summary, address, persons)
    are purged `incident_facts_days` after it closes."""

    small_cell_threshold: int = 5
    incident_facts_days: int = 90
    contacts_section: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """An agency as its data file describes it, with its policy and area loaded."""

    slug: str
    name: str
    policy: Policy
    time_zone: str
    area: AreaRule | None
    specialists: SpecialistCount
    on_duty_specialists: OnDutySpecialists
    overtime: Overtime
    may_set_additional_specialists: RolePermission
    may_set_directed_by_chief: RolePermission
    reports: ReportSettings = field(default_factory=lambda: ReportSettings())

    @property
    def zone(self) -> ZoneInfo:
        """The agency's time zone (validated when the agency was loaded)."""
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the team is activated, under which criteria, and how many specialists go."""

    policy: str
    activate: bool
    status: Status
    criteria: tuple[str, ...]
    specialists: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The decision as CONTRACT §4 spells it."""
        return {
            "policy": self.policy,
            "activate": self.activate,
            "status": self.status.value,
            "criteria": list(self.criteria),
            "specialists": self.specialists,
            "reasons": list(self.reasons),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Read back what `to_dict` wrote (e.g. a stored decision)."""
        return cls(
            policy=str(data["policy"]),
            activate=bool(data["activate"]),
            status=Status(data["status"]),
            criteria=tuple(str(item) for item in data["criteria"]),
            specialists=int(data["specialists"]),
            reasons=tuple(str(item) for item in data["reasons"]),
        )
