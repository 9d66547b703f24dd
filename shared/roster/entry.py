"""A roster entry as the outside world sends it (CONTRACT §5), validated strictly."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from shared.stored_text import Storable

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # [0-9]: \d would take any script's digits

MemberId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True), Storable
]
Phone = Annotated[str, StringConstraints(pattern=E164.pattern)]
Language = Annotated[str, StringConstraints(min_length=2, max_length=35), Storable]
StatusName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,31}$")]
"""A status of the agency's lifecycle (the five of CONTRACT §5 and the application's steps);
which ones exist is checked against the agency when the roster is written."""
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), Storable
]

MAX_ROSTER_SIZE = 2000


class SpecialistStatus(StrEnum):
    """The statuses CONTRACT §5 names (a lifecycle may have more; only `active` is paged)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"


class RosterEntryIn(BaseModel):
    """One specialist. `phone` is E.164 (+15555550123); `on_duty` is their state now.

    A changed `status` is a step of the agency's lifecycle: `status_reason` says why and
    `status_document` names the written request, notice or decision when the step needs one.
    `training_current` is accepted for older clients and not used: it is derived from the
    training records (issue 14)."""

    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), Storable
    ]
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    phone: Phone
    status: StatusName
    on_duty: StrictBool
    on_call: StrictBool
    training_current: StrictBool | None = None
    under_investigation: StrictBool
    languages: list[Language] = Field(default_factory=list, max_length=10)
    status_reason: ShortText | None = None
    status_document: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True), Storable
        ]
        | None
    ) = None
