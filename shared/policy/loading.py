"""Load policies, areas and agencies from a data directory, once, at start-up.

A data directory holds `policies/<policy id>.toml`, `agencies/<slug>.toml` and `areas/*.geojson`
(see `shared/policy/README.md`). The packaged one is `shared/policy/data`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from shared.policy.area import Area
from shared.policy.conditions import compile_condition
from shared.policy.data_files import (
    AgencyFile,
    CriterionEntry,
    GroundsEntry,
    LifecycleEntry,
    PermissionEntry,
    PolicyFile,
    TrainingEntry,
)
from shared.policy.errors import PolicyDataError
from shared.policy.model import (
    AgencyConfig,
    AreaRule,
    Criterion,
    Grounds,
    OnDutySpecialists,
    Overtime,
    Policy,
    ReportSettings,
    RolePermission,
    SpecialistCount,
)
from shared.policy.registry import AgencyRegistry
from shared.roster.lifecycle import Item, Lifecycle, Transition
from shared.roster.training_rule import TrainingSettings

DEFAULT_DATA_DIR = Path(__file__).parent / "data"

_FileT = TypeVar("_FileT", bound=BaseModel)


def load_registry(data_dir: Path | str | None = None) -> AgencyRegistry:
    """Every agency of the data directory (default: the packaged one) with its policy and area."""
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    policies = {}
    for path in sorted((root / "policies").glob("*.toml")):
        policy = load_policy(path)
        policies[policy.id] = policy
    areas: dict[str, Area] = {}
    agencies = {}
    for path in sorted((root / "agencies").glob("*.toml")):
        agency = load_agency(path, policies=policies, areas_dir=root / "areas", areas=areas)
        agencies[agency.slug] = agency
    if not agencies:
        raise PolicyDataError(f"{root / 'agencies'}: no agency files (*.toml)")
    return AgencyRegistry(agencies)


def load_policy(path: Path) -> Policy:
    """One policy file; its conditions are compiled here, once."""
    entry = _read_toml(path, PolicyFile)
    if entry.id != path.stem:
        raise PolicyDataError(f"{path}: id {entry.id!r} must match the file name {path.stem!r}")
    criteria = tuple(_criterion(criterion, path) for criterion in entry.criteria)
    return Policy(
        id=entry.id,
        name=entry.name,
        cite=entry.cite,
        criteria_section=entry.criteria_section,
        criteria=criteria,
        lifecycle=None if entry.lifecycle is None else _lifecycle(entry.lifecycle, path),
        training=None if entry.training is None else _training(entry.training),
    )


def _lifecycle(entry: LifecycleEntry, path: Path) -> Lifecycle:
    try:
        return Lifecycle(
            statuses=tuple(entry.statuses),
            imported=frozenset(entry.imported),
            words=dict(entry.words),
            transitions=tuple(
                Transition(
                    id=step.id,
                    words=step.words,
                    sources=frozenset(step.from_),
                    target=step.to,
                    grounds=Grounds(section=step.section, note=step.note),
                    roles=frozenset(step.roles),
                    document=step.document,
                    checks=tuple(Item(i.id, i.words, i.section) for i in step.checks),
                    reasons=tuple(Item(i.id, i.words, i.section) for i in step.reasons),
                    needs_training=step.training,
                )
                for step in entry.steps
            ),
        )
    except ValueError as error:
        raise PolicyDataError(f"{path}: lifecycle: {error}") from error


def _training(entry: TrainingEntry) -> TrainingSettings:
    return TrainingSettings(
        rule=entry.rule,
        grounds=Grounds(section=entry.section, note=entry.note),
        initial_topics=tuple(entry.initial_topics),
        notice_days=entry.notice_days,
    )


def _criterion(entry: CriterionEntry, path: Path) -> Criterion:
    where = f"{path}: criterion {entry.id}: when"
    return Criterion(
        id=entry.id,
        words=entry.words,
        needs_consent=entry.consent,
        condition=compile_condition(entry.when, where),
    )


def load_agency(
    path: Path, *, policies: Mapping[str, Policy], areas_dir: Path, areas: dict[str, Area]
) -> AgencyConfig:
    """One agency file, with its policy from `policies` and its area (cached in `areas`)."""
    entry = _read_toml(path, AgencyFile)
    if entry.slug != path.stem:
        raise PolicyDataError(f"{path}: slug {entry.slug!r} must match the file name {path.stem!r}")
    policy = policies.get(entry.policy)
    if policy is None:
        raise PolicyDataError(
            f"{path}: policy {entry.policy!r} has no file policies/{entry.policy}.toml"
        )
    try:
        ZoneInfo(entry.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise PolicyDataError(f"{path}: unknown time_zone {entry.time_zone!r}") from error
    area_rule = None
    if entry.area is not None:
        if entry.area.file not in areas:
            areas[entry.area.file] = load_area(areas_dir / entry.area.file, referenced_by=path)
        area_rule = AreaRule(
            file=entry.area.file,
            name=entry.area.name,
            area=areas[entry.area.file],
            grounds=_grounds(entry.area),
        )
    return AgencyConfig(
        slug=entry.slug,
        name=entry.name,
        policy=policy,
        time_zone=entry.time_zone,
        area=area_rule,
        specialists=SpecialistCount(
            per_incident=entry.specialists.per_incident, grounds=_grounds(entry.specialists)
        ),
        on_duty_specialists=OnDutySpecialists(
            rule=entry.on_duty_specialists.rule,
            remind_supervisor=entry.on_duty_specialists.remind_supervisor,
            grounds=_grounds(entry.on_duty_specialists),
        ),
        overtime=Overtime(rule=entry.overtime.rule, grounds=_grounds(entry.overtime)),
        may_set_additional_specialists=_permission(entry.permissions.additional_specialists),
        may_set_directed_by_chief=_permission(entry.permissions.directed_by_chief),
        reports=ReportSettings(
            small_cell_threshold=entry.reports.small_cell_threshold,
            incident_facts_days=entry.reports.incident_facts_days,
            contacts_section=entry.reports.contacts_section,
        ),
    )


def load_area(path: Path, *, referenced_by: Path) -> Area:
    """One GeoJSON area file."""
    try:
        document = json.loads(path.read_bytes())
        return Area.from_geojson(document)
    except OSError as error:
        raise PolicyDataError(
            f"{referenced_by}: area file {path} cannot be read: {error}"
        ) from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PolicyDataError(f"{path}: not a usable GeoJSON area: {error}") from error


def _read_toml(path: Path, shape: type[_FileT]) -> _FileT:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyDataError(f"{path}: cannot be read: {error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyDataError(f"{path}: not valid TOML: {error}") from error
    try:
        return shape.model_validate(raw)
    except ValidationError as error:
        raise PolicyDataError(f"{path}: {_describe(error, raw)}") from error


def _describe(error: ValidationError, raw: dict[str, Any]) -> str:
    """The errors in one line, naming a criterion by its id rather than its index."""
    parts = []
    for detail in error.errors(include_url=False, include_context=False, include_input=False):
        location = [str(part) for part in detail["loc"]]
        if len(location) >= 2 and location[0] == "criteria":
            location[:2] = [_criterion_name(raw, detail["loc"][1])]
        message = detail["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(location)}: {message}" if location else message)
    return "; ".join(parts)


def _criterion_name(raw: dict[str, Any], index: object) -> str:
    criteria = raw.get("criteria")
    if isinstance(index, int) and isinstance(criteria, list) and index < len(criteria):
        entry = criteria[index]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return f"criterion {entry['id']}"
    return f"criteria.{index}"


def _grounds(entry: GroundsEntry) -> Grounds:
    return Grounds(section=entry.section, note=entry.note)


def _permission(entry: PermissionEntry) -> RolePermission:
    return RolePermission(roles=frozenset(entry.roles), grounds=_grounds(entry))
