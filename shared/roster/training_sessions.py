"""Training sessions as the console and `pst training import` keep them (issue 14): one session
per agency, day and title (a second one by the same name that day is refused; an imported file
finds the session it names and updates its marks), absences put back, and the reads the
training pages show. Built on `shared.roster.training_records`' writes, which recompute the
members' training currency. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, InvalidInput, NotFound
from shared.policy.model import AgencyConfig
from shared.roster.actor import Actor
from shared.roster.models import RosterEntry, TrainingAttendance, TrainingSession
from shared.roster.training_files import ImportedSession
from shared.roster.training_records import (
    Mark,
    mark_attendance,
    on_roster,
    recompute,
    record_session,
)

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]
SESSIONS: Table = TrainingSession.__table__  # type: ignore[assignment]
ATTENDANCE: Table = TrainingAttendance.__table__  # type: ignore[assignment]


async def _one_writer(session: AsyncSession, agency: str) -> None:
    """Sessions of one agency are added one transaction at a time, so two imports of the same
    file never both add the session."""
    key = f"training_sessions:{agency}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def find_session(
    session: AsyncSession, agency: str, held_on: date, title: str
) -> uuid.UUID | None:
    """The agency's session of that day by that title (case ignored), the first recorded."""
    found: uuid.UUID | None = await session.scalar(
        select(SESSIONS.c.id)
        .where(
            SESSIONS.c.agency == agency,
            SESSIONS.c.held_on == held_on,
            func.lower(SESSIONS.c.title) == title.strip().lower(),
        )
        .order_by(SESSIONS.c.created_at, SESSIONS.c.id)
        .limit(1)
    )
    return found


async def add_session(
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
    """A new session with its marks; 409 when the agency has one by that title that day."""
    await _one_writer(session, agency.slug)
    if await find_session(session, agency.slug, held_on, title) is not None:
        raise Conflict(
            f"“{title.strip()}” of {held_on.isoformat()} is recorded already: open it to add or "
            "change marks"
        )
    return await record_session(
        session,
        agency,
        held_on=held_on,
        title=title,
        topics=topics,
        marks=marks,
        actor=actor,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class ImportSummary:
    agency: str
    sessions_added: int
    sessions_updated: int
    marks: int

    def as_dict(self) -> dict[str, str | int]:
        return {
            "agency": self.agency,
            "sessions_added": self.sessions_added,
            "sessions_updated": self.sessions_updated,
            "marks": self.marks,
        }


async def import_sessions(
    session: AsyncSession,
    agency: AgencyConfig,
    sessions: Sequence[ImportedSession],
    *,
    actor: Actor,
    now: datetime,
) -> ImportSummary:
    """Each file session added, or found by its day and title and its marks (and topics)
    updated; a member not on the roster refuses the whole file, naming the line."""
    await _one_writer(session, agency.slug)
    members = {line.mark.member_id for found in sessions for line in found.marks}
    known = await on_roster(session, agency.slug, members)
    for found in sessions:
        for line in found.marks:
            if line.mark.member_id not in known:
                raise InvalidInput(f"line {line.line}: {line.mark.member_id} is not on the roster")
    added = updated = 0
    for found in sessions:
        marks = [line.mark for line in found.marks]
        existing = await find_session(session, agency.slug, found.held_on, found.title)
        if existing is None:
            await record_session(
                session,
                agency,
                held_on=found.held_on,
                title=found.title,
                topics=found.topics,
                marks=marks,
                actor=actor,
                now=now,
            )
            added += 1
            continue
        if found.topics:
            await session.execute(
                update(SESSIONS).where(SESSIONS.c.id == existing).values(topics=list(found.topics))
            )
        await mark_attendance(session, agency, existing, marks, actor=actor, now=now)
        updated += 1
    return ImportSummary(
        agency=agency.slug,
        sessions_added=added,
        sessions_updated=updated,
        marks=sum(len(found.marks) for found in sessions),
    )


async def clear_marks(
    session: AsyncSession, agency: AgencyConfig, session_id: uuid.UUID, members: Collection[str]
) -> None:
    """These members were absent after all (a mark recorded by mistake)."""
    if not members:
        return
    await session.execute(
        delete(ATTENDANCE).where(
            ATTENDANCE.c.session_id == session_id,
            ATTENDANCE.c.agency == agency.slug,
            ATTENDANCE.c.member_id.in_(sorted(members)),
        )
    )
    await recompute(session, agency, members)


@dataclass(frozen=True, slots=True)
class SessionLine:
    id: uuid.UUID
    held_on: date
    title: str
    topics: list[str]
    attended: int
    excused: int
    created_by: str


async def sessions_of(
    session: AsyncSession, agency: str, *, session_id: uuid.UUID | None = None, limit: int = 200
) -> list[SessionLine]:
    """The agency's sessions (or the one), newest first, with how many attended and were
    excused."""
    attended = func.count(ATTENDANCE.c.member_id).filter(ATTENDANCE.c.outcome == "attended")
    excused = func.count(ATTENDANCE.c.member_id).filter(ATTENDANCE.c.outcome == "excused")
    query = (
        select(
            SESSIONS.c.id,
            SESSIONS.c.held_on,
            SESSIONS.c.title,
            SESSIONS.c.topics,
            attended,
            excused,
            SESSIONS.c.created_by,
        )
        .outerjoin(ATTENDANCE, ATTENDANCE.c.session_id == SESSIONS.c.id)
        .where(SESSIONS.c.agency == agency)
        .group_by(SESSIONS.c.id)
        .order_by(SESSIONS.c.held_on.desc(), SESSIONS.c.created_at.desc())
        .limit(limit)
    )
    if session_id is not None:
        query = query.where(SESSIONS.c.id == session_id)
    rows = await session.execute(query)
    return [
        SessionLine(id, held_on, title, list(topics or []), a, e, by)
        for id, held_on, title, topics, a, e, by in rows
    ]


@dataclass(frozen=True, slots=True)
class SessionMark:
    member_id: str
    outcome: str
    memo: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SessionView:
    line: SessionLine
    marks: dict[str, SessionMark]


async def session_view(session: AsyncSession, agency: str, session_id: uuid.UUID) -> SessionView:
    found = await sessions_of(session, agency, session_id=session_id, limit=1)
    if not found:
        raise NotFound("no such training session of your agency")
    rows = await session.execute(
        select(
            ATTENDANCE.c.member_id,
            ATTENDANCE.c.outcome,
            ATTENDANCE.c.memo,
            ATTENDANCE.c.recorded_by,
            ATTENDANCE.c.recorded_at,
        ).where(ATTENDANCE.c.session_id == session_id, ATTENDANCE.c.agency == agency)
    )
    return SessionView(found[0], {row.member_id: SessionMark(*row) for row in rows})


@dataclass(frozen=True, slots=True)
class Attendance:
    session_id: uuid.UUID
    held_on: date
    title: str
    topics: list[str]
    outcome: str
    memo: str | None


async def attendance_of(session: AsyncSession, agency: str, member_id: str) -> list[Attendance]:
    """The sessions the member attended or was excused from, newest first."""
    rows = await session.execute(
        select(
            SESSIONS.c.id,
            SESSIONS.c.held_on,
            SESSIONS.c.title,
            SESSIONS.c.topics,
            ATTENDANCE.c.outcome,
            ATTENDANCE.c.memo,
        )
        .join(ATTENDANCE, ATTENDANCE.c.session_id == SESSIONS.c.id)
        .where(ATTENDANCE.c.agency == agency, ATTENDANCE.c.member_id == member_id)
        .order_by(SESSIONS.c.held_on.desc(), SESSIONS.c.created_at.desc())
    )
    return [
        Attendance(id, held_on, title, list(topics or []), outcome, memo)
        for id, held_on, title, topics, outcome, memo in rows
    ]
