"""The roster as coordinators see it: each specialist with why they cannot be paged, if so.

The reasons are the dispatcher's own (`services.dispatcher.selection.ineligibility`, pure), so
the console never says someone can be paged whom the dispatcher would pass over.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.selection import Ineligibility, Specialist, ineligibility
from shared.roster.entry import SpecialistStatus
from shared.roster.models import RosterEntry

WHY_NOT = {
    Ineligibility.NOT_ACTIVE: "not active ({status})",
    Ineligibility.TRAINING_LAPSED: "training not current",
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
    training_current: bool
    under_investigation: bool
    languages: list[str]
    why_not: str | None

    def __getitem__(self, name: str) -> object:  # templates read flags by name
        return getattr(self, name)


def why_not(
    entry: RosterEntry, *, involved: Collection[str] = (), assigned: Collection[str] = ()
) -> str | None:
    try:
        status = SpecialistStatus(entry.status)
    except ValueError:
        return f"unknown status {entry.status!r}"
    reason = ineligibility(
        Specialist(
            member_id=entry.member_id,
            name=entry.name,
            agency=entry.agency,
            phone=entry.phone,
            status=status,
            on_duty=entry.on_duty,
            on_call=entry.on_call,
            training_current=entry.training_current,
            under_investigation=entry.under_investigation,
        ),
        involved_member_ids=involved,
        already_assigned_member_ids=assigned,
    )
    return None if reason is None else WHY_NOT[reason].format(status=entry.status)


async def roster_with_eligibility(
    session: AsyncSession,
    agency: str,
    *,
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
            on_call=row.on_call,
            training_current=row.training_current,
            under_investigation=row.under_investigation,
            languages=list(row.languages or []),
            why_not=why_not(row, involved=involved, assigned=assigned),
        )
        for row in rows
    ]
