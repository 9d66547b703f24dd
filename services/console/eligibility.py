"""The roster as coordinators see it: each specialist with why they cannot be paged, if so.

The reasons are the dispatcher's own (`services.dispatcher.selection.ineligibility`, pure), so
the console never says someone can be paged whom the dispatcher would pass over.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.selection import Ineligibility, Specialist, ineligibility
from shared.roster.models import RosterEntry
from shared.roster.training_rule import is_current

WHY_NOT = {
    Ineligibility.NOT_ACTIVE: "not active ({status})",
    Ineligibility.TRAINING_LAPSED: "training not current",
    Ineligibility.PHONE_UNCONFIRMED: "phone not confirmed",
    Ineligibility.UNDER_INVESTIGATION: "under investigation",
    Ineligibility.INVOLVED_IN_INCIDENT: "involved in this incident",
    Ineligibility.ALREADY_ASSIGNED: "already assigned to this incident",
}


@dataclass(frozen=True, slots=True)
class RosterLine:
    member_id: str
    name: str
    phone: str
    status: str
    on_duty: bool
    on_call: bool
    """Standing on call and not within an `OFF 8H` window now."""
    training_current: bool
    under_investigation: bool
    languages: list[str]
    why_not: str | None
    phone_verified: bool = False
    training_valid_until: datetime | None = None
    off_call_until: datetime | None = None
    status_since: datetime | None = None

    def __getitem__(self, name: str) -> object:  # templates read flags by name
        return getattr(self, name)


def on_call_now(entry: RosterEntry, now: datetime) -> bool:
    return entry.on_call and (entry.off_call_until is None or entry.off_call_until <= now)


def why_not(
    entry: RosterEntry,
    *,
    now: datetime,
    involved: Collection[str] = (),
    assigned: Collection[str] = (),
) -> str | None:
    reason = ineligibility(
        Specialist(
            member_id=entry.member_id,
            name=entry.name,
            agency=entry.agency,
            phone=entry.phone,
            status=entry.status,
            on_duty=entry.on_duty,
            on_call=on_call_now(entry, now),
            training_current=is_current(entry.training_valid_until, now),
            under_investigation=entry.under_investigation,
            phone_verified=entry.phone_verified_at is not None,
        ),
        involved_member_ids=involved,
        already_assigned_member_ids=assigned,
    )
    return None if reason is None else WHY_NOT[reason].format(status=entry.status.replace("_", " "))


async def roster_with_eligibility(
    session: AsyncSession,
    agency: str,
    *,
    now: datetime,
    involved: Collection[str] = (),
    assigned: Collection[str] = (),
) -> list[RosterLine]:
    rows = await session.scalars(
        select(RosterEntry).where(RosterEntry.agency == agency).order_by(RosterEntry.name)
    )
    return [
        RosterLine(
            member_id=row.member_id,
            name=row.name,
            phone=row.phone,
            status=row.status,
            on_duty=row.on_duty,
            on_call=on_call_now(row, now),
            training_current=is_current(row.training_valid_until, now),
            under_investigation=row.under_investigation,
            languages=list(row.languages or []),
            why_not=why_not(row, now=now, involved=involved, assigned=assigned),
            phone_verified=row.phone_verified_at is not None,
            training_valid_until=row.training_valid_until,
            off_call_until=row.off_call_until,
            status_since=row.status_since,
        )
        for row in rows
    ]
