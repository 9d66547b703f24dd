"""Replacing an agency's roster as a whole (CONTRACT §5): data functions, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.roster.entry import RosterEntryIn
from shared.roster.models import RosterEntry


@dataclass(frozen=True)
class RosterChange:
    agency: str
    specialists: int
    added: tuple[str, ...]
    removed: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "specialists": self.specialists,
            "added": list(self.added),
            "removed": list(self.removed),
        }


async def replace_roster(
    session: AsyncSession, *, agency: str, entries: list[RosterEntryIn], now: datetime
) -> RosterChange:
    """Make the agency's roster exactly `entries`; members left out are removed from it."""
    existing = set(
        await session.scalars(
            select(RosterEntry.member_id).where(RosterEntry.agency == agency).with_for_update()
        )
    )
    wanted = {entry.member_id for entry in entries}
    removed = sorted(existing - wanted)
    if removed:
        await session.execute(
            delete(RosterEntry).where(
                RosterEntry.agency == agency, RosterEntry.member_id.in_(removed)
            )
        )
    if entries:
        rows = [
            {
                "agency": agency,
                "member_id": entry.member_id,
                "name": entry.name,
                "phone": entry.phone,
                "status": entry.status.value,
                "on_duty": entry.on_duty,
                "on_call": entry.on_call,
                "training_current": entry.training_current,
                "under_investigation": entry.under_investigation,
                "languages": list(entry.languages),
                "updated_at": now,
            }
            for entry in entries
        ]
        statement = insert(RosterEntry).values(rows)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["agency", "member_id"],
                set_={
                    column: statement.excluded[column]
                    for column in rows[0]
                    if column not in ("agency", "member_id")
                },
            )
        )
    return RosterChange(
        agency=agency,
        specialists=len(entries),
        added=tuple(sorted(wanted - existing)),
        removed=tuple(removed),
    )
