"""Telling the coordinators a month before someone's training lapses (issue 14).

Once per member and lapse moment (`training_notices` is the record that they were told), as a
`CoordinatorAlertRaised`: the console shows it in the alerts inbox and the notifier texts the
coordinators, as with every other alert. The text names the member by id, as the other alerts
do; the console shows who that is. Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar_names import DAY_NAMES, MONTH_NAMES
from shared.events import CoordinatorAlertRaised
from shared.kafka.topics import Topics
from shared.outbox.rows import write_events
from shared.policy.model import AgencyConfig
from shared.roster.lifecycle import PAGEABLE
from shared.roster.models import RosterEntry, TrainingNotice
from shared.roster.training_rule import FOREVER

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]
NOTICES: Table = TrainingNotice.__table__  # type: ignore[assignment]
REASON = "training_lapsing"


@dataclass(frozen=True, slots=True)
class Lapsing:
    member_id: str
    valid_until: datetime


async def lapsing(session: AsyncSession, agency: AgencyConfig, now: datetime) -> list[Lapsing]:
    """Active members whose training is current now and lapses within the notice period."""
    settings = agency.policy.training
    if settings is None:
        return []
    rows = await session.execute(
        select(ENTRIES.c.member_id, ENTRIES.c.training_valid_until)
        .where(
            ENTRIES.c.agency == agency.slug,
            ENTRIES.c.status == PAGEABLE,
            ENTRIES.c.training_valid_until > now,
            ENTRIES.c.training_valid_until <= now + timedelta(days=settings.notice_days),
            ENTRIES.c.training_valid_until < FOREVER,
        )
        .order_by(ENTRIES.c.training_valid_until, ENTRIES.c.member_id)
    )
    return [Lapsing(member_id, until) for member_id, until in rows]


def lapse_message(agency: AgencyConfig, member_id: str, until: datetime) -> str:
    last_day = (until.astimezone(agency.zone) - timedelta(microseconds=1)).date()
    grounds = agency.policy.training.grounds if agency.policy.training else None
    cite = f" ({agency.policy.cite} §{grounds.section})" if grounds and grounds.section else ""
    return (
        f"Specialist {member_id}'s training is current through "
        f"{DAY_NAMES[last_day.weekday()][:3]} {last_day.day} {MONTH_NAMES[last_day.month - 1][:3]}"
        f"{cite}: record their attendance, or the memo the committee approved, before then "
        "or they are no longer paged."
    )


async def tell_of_lapses(
    session: AsyncSession, topics: Topics, agency: AgencyConfig, now: datetime
) -> list[str]:
    """Raise one alert per member newly within the notice period; the members told."""
    told: list[str] = []
    for member in await lapsing(session, agency, now):
        fresh = (
            await session.execute(
                insert(NOTICES)
                .values(
                    agency=agency.slug,
                    member_id=member.member_id,
                    valid_until=member.valid_until,
                    sent_at=now,
                )
                .on_conflict_do_nothing()
                .returning(NOTICES.c.member_id)
            )
        ).scalar_one_or_none()
        if fresh is None:
            continue
        await write_events(
            session,
            topics,
            CoordinatorAlertRaised(
                occurred_at=now,
                alert_id=uuid.uuid4(),
                agency=agency.slug,
                incident_id=None,
                reason=REASON,
                message=lapse_message(agency, member.member_id, member.valid_until),
                member_id=member.member_id,
            ),
        )
        told.append(member.member_id)
    return told
