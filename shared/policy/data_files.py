"""The shapes of the policy and agency data files (see `shared/policy/README.md`).

Unknown keys are rejected and values are strictly typed, so a typo in a data file fails the
load instead of silently changing a decision. Conditions stay raw here: `conditions.py` compiles
them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from shared.policy.model import OnDutySpecialistRule, OvertimeRule, Role
from shared.roster.training_rule import TrainingRule

Text = Annotated[StrictStr, Field(min_length=1)]
Slug = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
CriterionId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.]*$", max_length=32)]


class _DataEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionEntry(_DataEntry):
    id: CriterionId
    words: Text
    consent: StrictBool = False
    when: dict[str, Any]


StatusName = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z_]*$", max_length=32)]
StepId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z_0-9.-]*$", max_length=40)]


class ItemEntry(_DataEntry):
    id: StepId
    words: Text
    section: Text | None = None


class LifecycleStepEntry(_DataEntry):
    id: StepId
    words: Text
    from_: Annotated[list[StatusName], Field(alias="from", min_length=1)]
    to: StatusName
    section: Text | None = None
    note: Text | None = None
    roles: Annotated[list[Role], Field(min_length=1)]
    document: Text | None = None
    checks: list[ItemEntry] = []
    reasons: list[ItemEntry] = []
    training: StrictBool = False

    @model_validator(mode="after")
    def _grounded(self) -> LifecycleStepEntry:
        if self.section is None and self.note is None:
            raise ValueError(f"step {self.id}: give the policy section that grounds it, or a note")
        return self


class LifecycleEntry(_DataEntry):
    statuses: Annotated[list[StatusName], Field(min_length=1)]
    imported: list[StatusName] = ["active", "inactive", "suspended", "withdrawn", "removed"]
    words: dict[StatusName, Text] = {}
    steps: Annotated[list[LifecycleStepEntry], Field(min_length=1)]


class TrainingEntry(_DataEntry):
    rule: TrainingRule
    section: Text | None = None
    note: Text | None = None
    initial_topics: list[Text] = []
    notice_days: Annotated[StrictInt, Field(ge=1, le=120)] = 30

    @model_validator(mode="after")
    def _grounded(self) -> TrainingEntry:
        if self.section is None and self.note is None:
            raise ValueError("training: give the policy section that grounds the rule, or a note")
        return self


class PolicyFile(_DataEntry):
    id: Slug
    name: Text
    cite: Text
    criteria_section: Text
    criteria: Annotated[list[CriterionEntry], Field(min_length=1)]
    lifecycle: LifecycleEntry | None = None
    """Issue 14: a specialist's steps from application to removal (none: the contract's five
    statuses, set only by roster files)."""
    training: TrainingEntry | None = None

    @model_validator(mode="after")
    def _ids_unique(self) -> PolicyFile:
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"criterion {criterion.id} is defined twice")
            seen.add(criterion.id)
        return self


class GroundsEntry(_DataEntry):
    section: Text | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _grounded(self) -> GroundsEntry:
        if self.section is None and self.note is None:
            raise ValueError("give the policy section that grounds the rule, or a note")
        return self


class AreaEntry(GroundsEntry):
    file: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(geo)?json$")]
    name: Text


class SpecialistsEntry(GroundsEntry):
    per_incident: Annotated[StrictInt, Field(ge=1, le=50)]


class OnDutySpecialistsEntry(GroundsEntry):
    rule: OnDutySpecialistRule
    remind_supervisor: StrictBool = False


class OvertimeEntry(GroundsEntry):
    rule: OvertimeRule


class PermissionEntry(GroundsEntry):
    roles: list[Role]


class PermissionsEntry(_DataEntry):
    additional_specialists: PermissionEntry
    directed_by_chief: PermissionEntry


class ReportsEntry(_DataEntry):
    """Issue 13: how small a count is hidden from the chief, how long incident facts are kept."""

    small_cell_threshold: Annotated[StrictInt, Field(ge=3, le=50)] = 5
    incident_facts_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 90
    contacts_section: Text | None = None
    """The section that asks for the contact statistics, cited beside them."""


class AgencyFile(_DataEntry):
    slug: Slug
    name: Text
    policy: Slug
    time_zone: Text
    area: AreaEntry | None = None
    specialists: SpecialistsEntry
    on_duty_specialists: OnDutySpecialistsEntry
    overtime: OvertimeEntry
    permissions: PermissionsEntry
    reports: ReportsEntry = ReportsEntry()
