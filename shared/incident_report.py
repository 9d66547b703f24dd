"""The incident report, version 1 (CONTRACT §3): the JSON every intake path accepts.

Validation is strict so that a typo or a loosely typed value never silently changes a decision:
unknown fields are rejected, a string is never read as a boolean and a float never as an integer.
`occurred_at` must carry a UTC offset and lie at most five minutes in the future; "now" comes from
the validation context (`context={"now": aware_datetime}`) and defaults to the real UTC time.

The context may also carry `agencies`, the known agency slugs (e.g. `registry.slugs`); when it
does, an unknown `agency` is a validation error too.

Persons:
- `member`: `member_id` is required (the member's own id; it also keeps them from being paged to
  support an incident they are part of); `on_duty` says whether the harm was duty-related and
  defaults to true.
- `family`: `member_id` is required and names the member whose family it is; `on_duty` is not
  accepted.
- `public`: neither `member_id` nor `on_duty` is accepted.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from shared.stored_text import Storable

SCHEMA_VERSION: Final = 1
SCHEMA_ID: Final = "urn:pst:schema:incident-report:v1"
MAX_FUTURE: Final = timedelta(minutes=5)
MAX_PERSONS: Final = 200
MAX_ADDITIONAL_SPECIALISTS: Final = 10

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_ERRORS_PER_LINE = 3


class Event(StrEnum):
    """What happened, as the reporter classifies it."""

    OFFICER_INVOLVED_SHOOTING = "officer_involved_shooting"
    USE_OF_FORCE = "use_of_force"
    VEHICLE_COLLISION = "vehicle_collision"
    VEHICLE_PURSUIT = "vehicle_pursuit"
    LINE_OF_DUTY_DEATH = "line_of_duty_death"
    MEMBER_ILLNESS = "member_illness"
    MEMBER_INJURY = "member_injury"
    FAMILY_DEATH = "family_death"
    TACTICAL_DEPLOYMENT = "tactical_deployment"
    NATURAL_DISASTER = "natural_disaster"
    OTHER = "other"


class PersonKind(StrEnum):
    """Who a listed person is to the agency."""

    MEMBER = "member"
    PUBLIC = "public"
    FAMILY = "family"


class Outcome(StrEnum):
    """What happened to a listed person; `none` means involved but unharmed."""

    DEATH = "death"
    SERIOUS_BODILY_INJURY = "serious_bodily_injury"
    INJURY = "injury"
    SERIOUS_ILLNESS = "serious_illness"
    NONE = "none"


HARMED: Final = frozenset({Outcome.DEATH, Outcome.SERIOUS_BODILY_INJURY})

AgencySlug = Annotated[
    StrictStr,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        min_length=1,
        max_length=64,
        description="The agency's slug, e.g. `kcmo`.",
    ),
]
MemberId = Annotated[StrictStr, Field(min_length=1, max_length=64), Storable]


class Location(BaseModel):
    """Where it happened, WGS84."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
    address: Annotated[StrictStr, Field(min_length=1, max_length=500), Storable] | None = None


class Person(BaseModel):
    """Someone involved; see the module docstring for which fields each kind takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PersonKind
    member_id: MemberId | None = Field(
        default=None,
        validate_default=True,
        description="member: their own id; family: the id of the member whose family it is; "
        "public: not accepted.",
    )
    outcome: Outcome
    on_duty: StrictBool | None = Field(
        default=None,
        validate_default=True,
        description="member only: whether the harm was duty-related (default true).",
    )

    @field_validator("member_id")
    @classmethod
    def _member_id_fits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is PersonKind.PUBLIC and value is not None:
            raise ValueError("a public person has no member_id")
        if kind is PersonKind.MEMBER and value is None:
            raise ValueError("member_id is required for a member (their own id)")
        if kind is PersonKind.FAMILY and value is None:
            raise ValueError("member_id is required for a family person (whose family it is)")
        return value

    @field_validator("on_duty")
    @classmethod
    def _on_duty_fits_kind(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        kind = info.data.get("kind")
        if kind is PersonKind.MEMBER:
            return True if value is None else value
        if kind is not None and value is not None:
            raise ValueError(f"only a member has on_duty, not a {kind.value} person")
        return value

    @property
    def harmed(self) -> bool:
        """Death or serious bodily injury (CONTRACT §4)."""
        return self.outcome in HARMED


class IncidentReport(BaseModel):
    """An incident report, version 1 (CONTRACT §3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: AgencySlug
    external_id: Annotated[StrictStr, Field(min_length=1, max_length=64), Storable] | None = None
    occurred_at: AwareDatetime = Field(
        description="RFC 3339 with a UTC offset; at most 5 minutes in the future."
    )
    location: Location | None = None
    summary: Annotated[StrictStr, Field(max_length=2000), Storable] | None = None
    event: Event
    department_vehicle: StrictBool = False
    pursuit: StrictBool = False
    weapon_discharged: StrictBool = False
    tactical_team_deployed: StrictBool = False
    persons: Annotated[list[Person], Field(max_length=MAX_PERSONS)] = Field(default_factory=list)
    requested_by_commander: StrictBool = False
    directed_by_chief: StrictBool = False
    consent_given: StrictBool = False
    additional_specialists: Annotated[
        int, Field(strict=True, ge=0, le=MAX_ADDITIONAL_SPECIALISTS)
    ] = 0

    @field_validator("agency")
    @classmethod
    def _agency_is_known(cls, value: str, info: ValidationInfo) -> str:
        known = info.context.get("agencies") if isinstance(info.context, dict) else None
        if known is not None and value not in known:
            raise ValueError(f"unknown agency {value!r} (known: {', '.join(sorted(known))})")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _occurred_at_is_rfc3339(cls, value: object) -> object:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
            raise ValueError(
                "Input should be an RFC 3339 timestamp with a UTC offset, "
                "e.g. 2026-11-20T22:14:00-06:00"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at_not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        now = _now_from(info.context)
        if value > now + MAX_FUTURE:
            raise ValueError("must be at most 5 minutes in the future")
        try:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC: no later step could use it
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("must lie between the years 1 and 9999 in UTC") from None
        return value


def _now_from(context: Any) -> datetime:
    """The validation context's `now` (an aware datetime), else the real UTC time."""
    if isinstance(context, dict):
        now = context.get("now")
        if isinstance(now, datetime):
            if now.tzinfo is None:
                raise TypeError("the validation context's now must be timezone-aware")
            return now
    return datetime.now(UTC)


def validation_error_line(error: ValidationError) -> str:
    """One short line naming the field(s) at fault, e.g. `persons.0.outcome: Input should be ...`.

    At most three errors are spelled out; the count of the rest follows.
    """
    parts = []
    errors = error.errors(include_url=False, include_context=False, include_input=False)
    for detail in errors[:_ERRORS_PER_LINE]:
        location = ".".join(str(part) for part in detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    if len(errors) > _ERRORS_PER_LINE:
        parts.append(f"and {len(errors) - _ERRORS_PER_LINE} more")
    return "; ".join(parts).replace("\n", " ")


def incident_report_json_schema() -> dict[str, Any]:
    """The JSON Schema of the incident report (the one published in `docs/`)."""
    schema = IncidentReport.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def render_incident_report_json_schema() -> str:
    """The schema as the text of `docs/incident-report-v1.schema.json`."""
    return json.dumps(incident_report_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render_incident_report_json_schema(), end="")
