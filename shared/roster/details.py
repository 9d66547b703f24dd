"""Changing one member's details (name, phone, duty, on call, investigation, languages) without
touching the rest of the roster (issue 14). The status moves only by lifecycle steps
(`shared.roster.steps`) and training currency only by the records, so neither is here. A new
phone number is unconfirmed until it answers the code the notifier texts it. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import NotFound
from shared.kafka.topics import Topics
from shared.roster import phones
from shared.roster.entry import Language, Phone
from shared.roster.models import RosterEntry
from shared.stored_text import Storable

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]


class MemberDetails(BaseModel):
    """What a coordinator edits on a member's page, validated as a roster file's entry is."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[
        str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), Storable
    ]
    phone: Phone
    on_duty: StrictBool
    on_call: StrictBool
    under_investigation: StrictBool
    languages: list[Language] = Field(default_factory=list, max_length=10)


@dataclass(frozen=True, slots=True)
class DetailsChange:
    changed: tuple[str, ...]
    """The fields that differ from what was stored, in the model's order."""
    phone_to_confirm: bool
    """The phone changed: a code was requested for the new number."""


async def update_details(
    session: AsyncSession,
    topics: Topics,
    *,
    agency: str,
    member_id: str,
    details: MemberDetails,
    now: datetime,
) -> DetailsChange:
    """Store the member's new details; a changed phone asks the notifier for a code."""
    row = (
        await session.execute(
            select(
                ENTRIES.c.name,
                ENTRIES.c.phone,
                ENTRIES.c.on_duty,
                ENTRIES.c.on_call,
                ENTRIES.c.under_investigation,
                ENTRIES.c.languages,
            )
            .where(ENTRIES.c.agency == agency, ENTRIES.c.member_id == member_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"{member_id} is not on the roster")
    stored = row._asdict()
    stored["languages"] = list(stored["languages"] or [])
    wanted = details.model_dump()
    changed = tuple(name for name in wanted if wanted[name] != stored[name])
    if not changed:
        return DetailsChange(changed=(), phone_to_confirm=False)
    await session.execute(
        update(ENTRIES)
        .where(ENTRIES.c.agency == agency, ENTRIES.c.member_id == member_id)
        .values(**{name: wanted[name] for name in changed}, updated_at=now)
    )
    phone_changed = "phone" in changed
    if phone_changed:
        await phones.request_confirmation(
            session, topics, agency=agency, member_id=member_id, phone=details.phone, now=now
        )
    return DetailsChange(changed=changed, phone_to_confirm=phone_changed)
