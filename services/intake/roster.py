"""Replacing an agency's roster as a whole (CONTRACT §5): data functions, never commit.

A roster file (or the API's list) is a list of specialists; what it changes is recorded as the
lifecycle's steps (issue 14):

- a member new to the roster comes in at a status the lifecycle lets a file bring (`recorded`);
- a changed status must be one step of the lifecycle that needs no checks, grounds or
  training, and brings its document's reference (`status_document`) when the step needs one;
  otherwise the whole roster is refused (409) and nothing changes;
- a member the file leaves out is dropped from the roster (`left_out`);
- a new or changed phone is unconfirmed until it answers the code the notifier texts it;
- `training_current` is not used: training currency comes from the training records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, InvalidInput
from shared.kafka.topics import Topics
from shared.policy.model import AgencyConfig
from shared.roster import phones
from shared.roster.actor import Actor
from shared.roster.entry import RosterEntryIn
from shared.roster.lifecycle import NEW, IllegalTransition, Transition, import_step
from shared.roster.models import RosterEntry
from shared.roster.steps import StepRow, lifecycle_of, record_steps
from shared.roster.training_records import recompute

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]
MAX_REFUSALS_LISTED = 10


@dataclass(frozen=True)
class RosterChange:
    agency: str
    specialists: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    status_changes: tuple[str, ...] = ()
    phones_to_confirm: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "specialists": self.specialists,
            "added": list(self.added),
            "removed": list(self.removed),
            "status_changes": list(self.status_changes),
            "phones_to_confirm": list(self.phones_to_confirm),
            "training_current": "derived from the training records; values sent are not used",
        }


async def replace_roster(
    session: AsyncSession,
    *,
    agency: AgencyConfig,
    entries: list[RosterEntryIn],
    now: datetime,
    actor: Actor,
    topics: Topics,
    source: str,
) -> RosterChange:
    """Make the agency's roster exactly `entries`; `source` names where they came from
    (`roster file people.csv`, `roster API`), the reason given for steps without their own."""
    lifecycle = lifecycle_of(agency)
    existing = {
        row.member_id: row
        for row in await session.execute(
            select(ENTRIES.c.member_id, ENTRIES.c.status, ENTRIES.c.phone)
            .where(ENTRIES.c.agency == agency.slug)
            .with_for_update()
        )
    }
    unknown = sorted({entry.status for entry in entries} - set(lifecycle.statuses))
    if unknown:
        raise InvalidInput(
            f"status: {', '.join(map(repr, unknown))} is not a status of {agency.slug} "
            f"({', '.join(lifecycle.statuses)})"
        )
    steps: dict[str, Transition | None] = {}
    refusals: list[str] = []
    for entry in entries:
        current = existing[entry.member_id].status if entry.member_id in existing else NEW
        try:
            step = import_step(lifecycle, current, entry.status)
        except IllegalTransition as error:
            refusals.append(f"{entry.member_id}: {error.why}")
            continue
        if step is not None and step.document is not None and not entry.status_document:
            refusals.append(
                f"{entry.member_id}: “{step.words}” needs the reference of {step.document} "
                "(status_document)"
            )
            continue
        steps[entry.member_id] = step
    if refusals:
        more = len(refusals) - MAX_REFUSALS_LISTED
        raise Conflict(
            "status changes the lifecycle does not allow, nothing was changed: "
            + "; ".join(refusals[:MAX_REFUSALS_LISTED])
            + (f"; and {more} more" if more > 0 else "")
        )

    wanted = {entry.member_id for entry in entries}
    removed = sorted(set(existing) - wanted)
    if removed:
        await session.execute(
            delete(ENTRIES).where(ENTRIES.c.agency == agency.slug, ENTRIES.c.member_id.in_(removed))
        )
        await record_steps(
            session,
            agency=agency.slug,
            rows=[
                StepRow(
                    member_id=member_id,
                    step="left_out",
                    from_status=existing[member_id].status,
                    to_status=NEW,
                    reason=f"not in the {source}",
                )
                for member_id in removed
            ],
            actor=actor,
            now=now,
        )
    changed_status: list[str] = []
    new_phones: list[RosterEntryIn] = []
    if entries:
        moved_rows: list[dict[str, Any]] = []
        kept_rows: list[dict[str, Any]] = []
        for entry in entries:
            before = existing.get(entry.member_id)
            moved = before is None or before.status != entry.status
            if before is None or before.phone != entry.phone:
                new_phones.append(entry)
            (moved_rows if moved else kept_rows).append(
                {
                    "agency": agency.slug,
                    "member_id": entry.member_id,
                    "name": entry.name,
                    "phone": entry.phone,
                    "status": entry.status,
                    "status_since": now,
                    "on_duty": entry.on_duty,
                    "on_call": entry.on_call,
                    "under_investigation": entry.under_investigation,
                    "languages": list(entry.languages),
                    "updated_at": now,
                }
            )
        await _upsert(session, moved_rows, keep_status_since=False)
        await _upsert(session, kept_rows, keep_status_since=True)
        recorded: list[StepRow] = []
        for entry in entries:
            before = existing.get(entry.member_id)
            if before is not None and before.status == entry.status:
                continue
            step = steps.get(entry.member_id)
            if before is not None:
                changed_status.append(entry.member_id)
            recorded.append(
                StepRow(
                    member_id=entry.member_id,
                    step="recorded" if step is None else step.id,
                    from_status=NEW if before is None else before.status,
                    to_status=entry.status,
                    reason=entry.status_reason or f"from the {source}",
                    document=entry.status_document,
                )
            )
        await record_steps(session, agency=agency.slug, rows=recorded, actor=actor, now=now)
        await phones.request_confirmations(
            session,
            topics,
            agency=agency.slug,
            phones={entry.member_id: entry.phone for entry in new_phones},
            now=now,
        )
        await recompute(session, agency, [entry.member_id for entry in entries])
    return RosterChange(
        agency=agency.slug,
        specialists=len(entries),
        added=tuple(sorted(wanted - set(existing))),
        removed=tuple(removed),
        status_changes=tuple(sorted(changed_status)),
        phones_to_confirm=tuple(sorted(entry.member_id for entry in new_phones)),
    )


async def _upsert(
    session: AsyncSession, rows: list[dict[str, Any]], *, keep_status_since: bool
) -> None:
    if not rows:
        return
    statement = insert(ENTRIES).values(rows)
    kept = {"agency", "member_id"} | ({"status_since"} if keep_status_since else set())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["agency", "member_id"],
            set_={column: statement.excluded[column] for column in rows[0] if column not in kept},
        )
    )
