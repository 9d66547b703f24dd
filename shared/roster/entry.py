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

MAX_ROSTER_SIZE = 2000


class SpecialistStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"


class RosterEntryIn(BaseModel):
    """One specialist. `phone` is E.164 (+15555550123); `on_duty` is their state now."""

    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    name: Annotated[
        str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), Storable
    ]
    agency: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    phone: Phone
    status: SpecialistStatus
    on_duty: StrictBool
    on_call: StrictBool
    training_current: StrictBool
    under_investigation: StrictBool
    languages: list[Language] = Field(default_factory=list, max_length=10)
