"""Training sessions and attendance, and the training currency they give (issue 14).

Writes never commit: the caller owns the transaction. After any change to a member's records
or status, `recompute` stores their `training_valid_until` from the records by the policy's
rule (`shared.roster.training_rule`, pure)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Date as SqlDate
from sqlalchemy import Table, and_, bindparam, cast, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import InvalidInput
from shared.policy.model import AgencyConfig
from shared.roster.actor import Actor
from shared.roster.models import (
    RosterEntry,
    RosterTransition,
    TrainingAttendance,
    TrainingSession,
)
from shared.roster.training_rule import TrainingRule, covers_topics, valid_until

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]
SESSIONS: Table = TrainingSession.__table__  # type: ignore[assignment]
ATTENDANCE: Table = TrainingAttendance.__table__  # type: ignore[assignment]
TRANSITIONS: Table = RosterTransition.__table__  # type: ignore[assignment]

_STORE_VALID_UNTIL = (
    update(ENTRIES)
    .where(ENTRIES.c.agency == bindparam("a"), ENTRIES.c.member_id == bindparam("member"))
    .values(training_valid_until=bindparam("until"))
)
"""Executed with one parameter set per member whose value changed."""

Outcome = Literal["attended", "excused"]
MAX_TOPICS = 12


@dataclass(frozen=True, slots=True)
class Mark:
    """One member's outcome at a session; an excused absence names its approved memo."""

    member_id: str
    outcome: Outcome
    memo: str | None = None

    def __post_init__(self) -> None:
        if self.outcome == "excused" and not (self.memo or "").strip():
            raise InvalidInput(
                f"{self.member_id}: an excused absence needs the reference of the memo the "
                "committee approved (830 §IV.E.3.f)"
            )


async def record_session(
    session: AsyncSession,
    agency: AgencyConfig,
    *,
    held_on: date,
    title: str,
    topics: Sequence[str],
    marks: Sequence[Mark],
    actor: Actor,
    now: datetime,
) -> uuid.UUID:
    """A session held, with who attended or was excused; the members must be on the roster."""
    title = title.strip()
    if not title or len(title) > 120:
        raise InvalidInput("title: the session's name, 1 to 120 characters")
    clean_topics = [topic.strip() for topic in topics if topic.strip()]
    if len(clean_topics) > MAX_TOPICS or any(len(topic) > 80 for topic in clean_topics):
        raise InvalidInput(f"topics: at most {MAX_TOPICS}, each at most 80 characters")
    if held_on > now.astimezone(agency.zone).date():
        raise InvalidInput(f"held_on: {held_on.isoformat()} is in the future")
    members = [mark.member_id for mark in marks]
    if len(set(members)) != len(members):
        raise InvalidInput("a member is marked twice for the same session")
    await _require_on_roster(session, agency.slug, members)
    session_id = uuid.uuid4()
    await session.execute(
        insert(SESSIONS).values(
            id=session_id,
            agency=agency.slug,
            held_on=held_on,
            title=title,
            topics=clean_topics,
            created_at=now,
            created_by=actor.label,
        )
    )
    await mark_attendance(session, agency, session_id, marks, actor=actor, now=now)
    return session_id


async def mark_attendance(
    session: AsyncSession,
    agency: AgencyConfig,
    session_id: uuid.UUID,
    marks: Sequence[Mark],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Add or change members' outcomes at a session (a later memo turns an absence into an
    excused one); then their training currency is recomputed."""
    if not marks:
        return
    await _require_on_roster(session, agency.slug, [mark.member_id for mark in marks])
    statement = insert(ATTENDANCE).values(
        [
            {
                "session_id": session_id,
                "member_id": mark.member_id,
                "agency": agency.slug,
                "outcome": mark.outcome,
                "memo": (mark.memo or "").strip()[:120] or None,
                "recorded_at": now,
                "recorded_by": actor.label,
            }
            for mark in marks
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["session_id", "member_id"],
            set_={
                "outcome": statement.excluded.outcome,
                "memo": statement.excluded.memo,
                "recorded_at": statement.excluded.recorded_at,
                "recorded_by": statement.excluded.recorded_by,
            },
        )
    )
    await recompute(session, agency, [mark.member_id for mark in marks])


async def on_roster(session: AsyncSession, agency: str, members: Collection[str]) -> set[str]:
    """Which of `members` are on the agency's roster."""
    if not members:
        return set()
    return set(
        await session.scalars(
            select(ENTRIES.c.member_id).where(
                ENTRIES.c.agency == agency, ENTRIES.c.member_id.in_(sorted(members))
            )
        )
    )


async def _require_on_roster(session: AsyncSession, agency: str, members: Collection[str]) -> None:
    missing = sorted(set(members) - await on_roster(session, agency, members))
    if missing:
        raise InvalidInput(f"not on the roster: {', '.join(missing[:10])}")


async def credits(
    session: AsyncSession, agency: AgencyConfig, members: Collection[str] | None
) -> dict[str, list[date]]:
    """Each member's credit dates (local): sessions attended (or excused by a memo, under the
    quarterly rule only), and the days they finished a training step into `active`."""
    lifecycle = agency.policy.lifecycle
    training_steps = (
        [step.id for step in lifecycle.transitions if step.needs_training] if lifecycle else []
    )
    found: dict[str, list[date]] = {}
    attended = (
        select(ATTENDANCE.c.member_id, SESSIONS.c.held_on)
        .join(SESSIONS, SESSIONS.c.id == ATTENDANCE.c.session_id)
        .where(ATTENDANCE.c.agency == agency.slug)
    )
    settings = agency.policy.training
    if settings is None or settings.rule is not TrainingRule.QUARTERLY:
        # an excused absence stands for a regular training missed (830 §IV.E.3.f); it never
        # stands for the training itself
        attended = attended.where(ATTENDANCE.c.outcome == "attended")
    if members is not None:
        attended = attended.where(ATTENDANCE.c.member_id.in_(list(members)))
    for member_id, held_on in await session.execute(attended):
        found.setdefault(member_id, []).append(held_on)
    if training_steps:
        finished = select(TRANSITIONS.c.member_id, TRANSITIONS.c.at).where(
            TRANSITIONS.c.agency == agency.slug, TRANSITIONS.c.step.in_(training_steps)
        )
        if members is not None:
            finished = finished.where(TRANSITIONS.c.member_id.in_(list(members)))
        for member_id, at in await session.execute(finished):
            found.setdefault(member_id, []).append(at.astimezone(agency.zone).date())
    return found


async def recompute(
    session: AsyncSession, agency: AgencyConfig, members: Iterable[str] | None = None
) -> None:
    """Store `training_valid_until` for these members (None: the whole roster)."""
    wanted = None if members is None else sorted(set(members))
    if wanted == []:
        return
    found = await credits(session, agency, wanted)
    rows = select(ENTRIES.c.member_id, ENTRIES.c.training_valid_until).where(
        ENTRIES.c.agency == agency.slug
    )
    if wanted is not None:
        rows = rows.where(ENTRIES.c.member_id.in_(wanted))
    settings = agency.policy.training
    changed = []
    for member_id, stored in (await session.execute(rows)).all():
        until = (
            None
            if settings is None
            else valid_until(settings, found.get(member_id, []), agency.zone)
        )
        if until != stored:
            changed.append({"member": member_id, "until": until})
    if changed:
        await session.execute(
            _STORE_VALID_UNTIL, [change | {"a": agency.slug} for change in changed]
        )


async def training_done(
    session: AsyncSession, agency: AgencyConfig, member_id: str, since: datetime
) -> bool:
    """Whether the member attended, on or after `since` (local date), sessions covering the
    initial training's topics; with no topics set, any session attended then."""
    since_day = since.astimezone(agency.zone).date()
    rows = await session.scalars(
        select(SESSIONS.c.topics)
        .join(ATTENDANCE, ATTENDANCE.c.session_id == SESSIONS.c.id)
        .where(
            ATTENDANCE.c.agency == agency.slug,
            ATTENDANCE.c.member_id == member_id,
            ATTENDANCE.c.outcome == "attended",
            and_(SESSIONS.c.held_on >= cast(since_day, SqlDate)),
        )
    )
    attended = [list(topics or []) for topics in rows]
    if not attended:
        return False
    required = agency.policy.training.initial_topics if agency.policy.training else ()
    return covers_topics(required, attended)
