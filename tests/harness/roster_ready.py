"""Loading a roster for a test whose subject is not the roster's life: the entries go through
intake's own `replace_roster`, then each member's phone is confirmed and those the test lists
as `training_current` get a training attended today, through the roster's own writes (the same
functions the notifier's code reply and the console's training page call). So a test keeps
saying who may be paged the way it did before training and phones had records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.roster import RosterChange, replace_roster
from shared.kafka.topics import Topics
from shared.policy import AgencyRegistry, load_registry
from shared.roster import phones
from shared.roster.actor import Actor
from shared.roster.entry import RosterEntryIn
from shared.roster.models import RosterEntry
from shared.roster.training_records import Mark, record_session

TEST_ACTOR = Actor(role="operator", name="test roster", via="command")
_REGISTRY: AgencyRegistry | None = None


def _registry() -> AgencyRegistry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    return _REGISTRY


async def load_ready_roster(
    session: AsyncSession,
    *,
    agency: str,
    entries: Sequence[RosterEntryIn | dict[str, Any]],
    now: datetime,
    topics: Topics | None = None,
    registry: AgencyRegistry | None = None,
) -> RosterChange:
    """Replace the agency's roster and make it pageable as the entries say (no commit)."""
    config = (registry or _registry()).get(agency)
    parsed = [
        e if isinstance(e, RosterEntryIn) else RosterEntryIn.model_validate(e) for e in entries
    ]
    change = await replace_roster(
        session,
        agency=config,
        entries=parsed,
        now=now,
        actor=TEST_ACTOR,
        topics=topics or Topics(),
        source="test roster",
    )
    await make_ready(session, agency=agency, entries=parsed, now=now, registry=registry)
    return change


async def add_ready_entries(
    session: AsyncSession,
    *,
    agency: str,
    entries: Sequence[RosterEntryIn | dict[str, Any]],
    now: datetime,
    registry: AgencyRegistry | None = None,
) -> None:
    """Put these entries on the agency's roster as rows, beside those already there (as the
    harnesses of services that only read the roster always did: no lifecycle step, no phone
    confirmation asked for), then make them pageable as they say (`make_ready`). No commit."""
    parsed = [
        e if isinstance(e, RosterEntryIn) else RosterEntryIn.model_validate(e) for e in entries
    ]
    for entry in parsed:
        if entry.agency != agency:
            raise ValueError(f"{entry.member_id} is of {entry.agency}, not of {agency}")
        session.add(
            RosterEntry(
                agency=agency,
                member_id=entry.member_id,
                name=entry.name,
                phone=entry.phone,
                status=entry.status,
                status_since=now,
                on_duty=entry.on_duty,
                on_call=entry.on_call,
                under_investigation=entry.under_investigation,
                languages=list(entry.languages),
                updated_at=now,
            )
        )
    await session.flush()
    await make_ready(session, agency=agency, entries=parsed, now=now, registry=registry)


async def make_ready(
    session: AsyncSession,
    *,
    agency: str,
    entries: Sequence[RosterEntryIn],
    now: datetime,
    registry: AgencyRegistry | None = None,
    confirm_phones: bool = True,
) -> None:
    """Confirm the listed members' phones (unless `confirm_phones` is false: a test that sends
    the codes back itself) and credit a training today to those whose entry says
    `training_current` (default: true). No commit."""
    config = (registry or _registry()).get(agency)
    listed = {entry.member_id for entry in entries}
    for member_id, phone in (
        (
            await session.execute(
                select(RosterEntry.member_id, RosterEntry.phone).where(
                    RosterEntry.agency == agency, RosterEntry.member_id.in_(listed)
                )
            )
        ).all()
        if confirm_phones
        else ()
    ):
        await phones.mark_confirmed(
            session, agency=agency, member_id=member_id, phone=phone, now=now
        )
    trained = [entry.member_id for entry in entries if entry.training_current is not False]
    if trained:
        await record_session(
            session,
            config,
            held_on=now.astimezone(config.zone).date(),
            title="Quarterly training (test)",
            topics=config.policy.training.initial_topics if config.policy.training else (),
            marks=[Mark(member_id, "attended") for member_id in trained],
            actor=TEST_ACTOR,
            now=now,
        )
