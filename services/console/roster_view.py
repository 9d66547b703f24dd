"""What the roster, member and training pages show (issue 14): each specialist's status in the
policy's words, whether their phone is confirmed, their training currency in words, an OFF
window, why they cannot be paged; a member's steps they may take, their history and their
training; the sessions and who is lapsing. Reads only: the pages' routes audit them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.eligibility import RosterLine, roster_with_eligibility, why_not
from shared.calendar_names import MONTH_NAMES
from shared.errors import NotFound
from shared.policy.model import AgencyConfig
from shared.roster import reviews as review_records
from shared.roster.lifecycle import CONTRACT_STATUSES, NEW, PAGEABLE, Lifecycle, Transition
from shared.roster.models import RosterEntry
from shared.roster.reviews import REMOVE_STEP, Review
from shared.roster.steps import history, lifecycle_of
from shared.roster.training_records import training_done
from shared.roster.training_rule import FOREVER, TrainingSettings, is_current, lapses_soon
from shared.roster.training_sessions import (
    Attendance,
    SessionLine,
    attendance_of,
    session_view,
    sessions_of,
)

TrainingKind = Literal["current", "soon", "lapsed", "none"]
GROUP_TITLES = {
    "team": "On the team",
    "joining": "Joining or returning",
    "others": "Not on the team now",
}
ROSTER_FILE_STEPS = {
    "recorded": "Brought onto the roster by a roster file",
    "left_out": "Left out of a roster file",
}


def day_words(day: date) -> str:
    """`30 Jun 2026`, in English whatever the machine's locale."""
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]} {day.year}"


def days_in(zone: ZoneInfo) -> Callable[[date | datetime], str]:
    """The pages' `day(...)`: a date, or a moment's local date, in words."""

    def day(value: date | datetime) -> str:
        return day_words(value.astimezone(zone).date() if isinstance(value, datetime) else value)

    return day


@dataclass(frozen=True, slots=True)
class TrainingState:
    kind: TrainingKind
    words: str


def training_state(
    settings: TrainingSettings | None, until: datetime | None, now: datetime, zone: ZoneInfo
) -> TrainingState:
    """`current until 30 Jun 2026` (the last local day it counts), `lapsed`, or `no training
    recorded`; `soon` when it lapses within the policy's notice days."""
    if until is None:
        return TrainingState("none", "no training recorded")
    if not is_current(until, now):
        last = (until - timedelta(microseconds=1)).astimezone(zone).date()
        return TrainingState("lapsed", f"lapsed (current until {day_words(last)})")
    if until == FOREVER:
        return TrainingState("current", "current")
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    if settings is not None and lapses_soon(settings, until, now):
        return TrainingState("soon", f"current until {day_words(last)}: lapses soon")
    return TrainingState("current", f"current until {day_words(last)}")


def in_progress_statuses(lifecycle: Lifecycle) -> list[str]:
    """The statuses of people on their way onto the team (applying, in training, returning):
    not among the contract's five, not a status one re-applies from (a source of a step that
    also brings new members in, like `withdrawn` or `not selected`), and with steps leading
    on to `active` through such statuses. In the lifecycle's order."""
    reentry = {s for step in lifecycle.transitions if NEW in step.sources for s in step.sources}
    candidates = {
        status
        for status in lifecycle.statuses
        if status not in CONTRACT_STATUSES and status not in reentry
    }
    leading: set[str] = set()
    grew = True
    while grew:
        grew = False
        for step in lifecycle.transitions:
            if step.target == PAGEABLE or step.target in leading:
                for status in step.sources & candidates - leading:
                    leading.add(status)
                    grew = True
    return [status for status in lifecycle.statuses if status in leading]


def training_statuses(lifecycle: Lifecycle) -> list[str]:
    """Whose attendance a session records: the team and those in a training that a step needs
    (initial or reinstatement training)."""
    training = {s for step in lifecycle.transitions if step.needs_training for s in step.sources}
    return [s for s in lifecycle.statuses if s == PAGEABLE or s in training]


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: RosterLine
    status_words: str
    training: TrainingState
    off_call_until: datetime | None
    """An OFF window on now."""

    @property
    def member_id(self) -> str:
        return self.line.member_id


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    title: str
    rows: list[RosterRow]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    review: Review
    name: str | None
    """None: no longer on the roster."""


@dataclass(frozen=True, slots=True)
class RosterPage:
    groups: list[Group]
    reviews: list[ReviewRow]
    pageable: int
    total: int
    apply_step: Transition | None
    """The first step, when the signed-in role may record it."""


def _rows(config: AgencyConfig, lines: list[RosterLine], now: datetime) -> list[RosterRow]:
    lifecycle = lifecycle_of(config)
    return [
        RosterRow(
            line=line,
            status_words=lifecycle.status_words(line.status),
            training=training_state(
                config.policy.training, line.training_valid_until, now, config.zone
            ),
            off_call_until=(
                line.off_call_until
                if line.off_call_until is not None and line.off_call_until > now
                else None
            ),
        )
        for line in lines
    ]


async def roster_page(
    session: AsyncSession, config: AgencyConfig, *, role: str, now: datetime
) -> RosterPage:
    lifecycle = lifecycle_of(config)
    rows = _rows(config, await roster_with_eligibility(session, config.slug, now=now), now)
    joining = in_progress_statuses(lifecycle)
    order = {status: index for index, status in enumerate(lifecycle.statuses)}
    groups = [
        Group("team", GROUP_TITLES["team"], [r for r in rows if r.line.status == PAGEABLE]),
        Group(
            "joining",
            GROUP_TITLES["joining"],
            sorted(
                (r for r in rows if r.line.status in joining),
                key=lambda r: (order.get(r.line.status, 0), r.line.name),
            ),
        ),
        Group(
            "others",
            GROUP_TITLES["others"],
            sorted(
                (r for r in rows if r.line.status != PAGEABLE and r.line.status not in joining),
                key=lambda r: (order.get(r.line.status, len(order)), r.line.name),
            ),
        ),
    ]
    names = {r.member_id: r.line.name for r in rows}
    apply = [step for step in lifecycle.available(NEW, role)]
    return RosterPage(
        groups=groups,
        reviews=[
            ReviewRow(review, names.get(review.member_id))
            for review in await review_records.open_reviews(session, config.slug)
        ],
        pageable=sum(1 for r in rows if r.line.why_not is None),
        total=len(rows),
        apply_step=apply[0] if apply else None,
    )


@dataclass(frozen=True, slots=True)
class StepForm:
    step: Transition
    target_words: str
    cite: str
    training_done: bool | None
    """For a step that needs training: whether the records show it now."""
    opened: bool = False
    grounds: str | None = None
    """The ground preselected (a review's decision to remove)."""


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    words: str
    from_words: str | None
    to_words: str | None
    who: str
    reason: str | None
    document: str | None = None
    checks: list[str] = field(default_factory=list)
    grounds: str | None = None


@dataclass(frozen=True, slots=True)
class MemberPage:
    entry: RosterEntry
    status_words: str
    why_not: str | None
    training: TrainingState
    off_call_until: datetime | None
    steps: list[StepForm]
    open_reviews: list[Review]
    history: list[HistoryLine]
    attendance: list[Attendance]
    remove_by: str | None
    """Who records a removal, when the signed-in role may not (a review's decision)."""


def cite(step: Transition) -> str:
    grounds = step.grounds
    return f"§{grounds.section}" if grounds.section else (grounds.note or "team setting")


async def member_page(
    session: AsyncSession,
    config: AgencyConfig,
    member_id: str,
    *,
    role: str,
    now: datetime,
    open_step: str | None = None,
    grounds: str | None = None,
) -> MemberPage:
    lifecycle = lifecycle_of(config)
    entry = await session.scalar(
        select(RosterEntry).where(
            RosterEntry.agency == config.slug, RosterEntry.member_id == member_id
        )
    )
    if entry is None:
        raise NotFound("no such specialist on your agency's roster")
    steps: list[StepForm] = []
    for step in lifecycle.available(entry.status, role):
        done = (
            await training_done(session, config, member_id, entry.status_since)
            if step.needs_training
            else None
        )
        chosen = grounds if grounds in {item.id for item in step.reasons} else None
        steps.append(
            StepForm(
                step=step,
                target_words=lifecycle.status_words(step.target),
                cite=cite(step),
                training_done=done,
                opened=step.id == open_step,
                grounds=chosen if step.id == open_step else None,
            )
        )
    found_reviews = await review_records.reviews_of(session, config.slug, member_id)
    remove_by = None
    if not any(form.step.id == REMOVE_STEP for form in steps):
        removal = next(
            (s for s in lifecycle.from_status(entry.status) if s.id == REMOVE_STEP), None
        )
        if removal is not None:
            remove_by = " or ".join(sorted(removal.roles))
    return MemberPage(
        entry=entry,
        status_words=lifecycle.status_words(entry.status),
        why_not=why_not(entry, now=now),
        training=training_state(
            config.policy.training, entry.training_valid_until, now, config.zone
        ),
        off_call_until=(
            entry.off_call_until
            if entry.off_call_until is not None and entry.off_call_until > now
            else None
        ),
        steps=steps,
        open_reviews=[review for review in found_reviews if review.is_open],
        history=await _history(session, config, member_id, found_reviews),
        attendance=await attendance_of(session, config.slug, member_id),
        remove_by=remove_by,
    )


async def _history(
    session: AsyncSession, config: AgencyConfig, member_id: str, found: list[Review]
) -> list[HistoryLine]:
    lifecycle = lifecycle_of(config)
    known = {step.id: step for step in lifecycle.transitions}
    lines: list[HistoryLine] = []
    for record in await history(session, config.slug, member_id):
        step = known.get(record.step)
        checks = {item.id: item for item in step.checks} if step else {}
        reasons = {item.id: item for item in step.reasons} if step else {}
        lines.append(
            HistoryLine(
                at=record.at,
                words=step.words if step else ROSTER_FILE_STEPS.get(record.step, record.step),
                from_words=lifecycle.status_words(record.from_status),
                to_words=lifecycle.status_words(record.to_status),
                who=f"{record.actor_name} ({record.actor_role}, {record.via})",
                reason=record.reason,
                document=record.document,
                checks=[
                    _item_words(checks[c].words, checks[c].section) if c in checks else c
                    for c in record.checks
                ],
                grounds=(
                    _item_words(reasons[record.grounds].words, reasons[record.grounds].section)
                    if record.grounds in reasons
                    else record.grounds
                ),
            )
        )
    for review in found:
        if review.decided_at is not None:
            decided = "keep on the team" if review.decision == "keep" else "remove"
            lines.append(
                HistoryLine(
                    at=review.decided_at,
                    words=f"Review decided: {decided}",
                    from_words=None,
                    to_words=None,
                    who=review.decided_by or "",
                    reason=review.reason,
                )
            )
        lines.append(
            HistoryLine(
                at=review.opened_at,
                words=(
                    f"Review opened: {review.failures} failures to assist (pages declined or "
                    "not answered) within twelve months"
                ),
                from_words=None,
                to_words=None,
                who="the dispatcher's alert",
                reason=None,
            )
        )
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines


def _item_words(words: str, section: str | None) -> str:
    return f"{words} (§{section})" if section else words


@dataclass(frozen=True, slots=True)
class Lapsing:
    member_id: str
    name: str
    status_words: str
    training: TrainingState


@dataclass(frozen=True, slots=True)
class TrainingPage:
    sessions: list[SessionLine]
    members: list[MarkRow]
    """Whom a new session records: the team and those in a training (all absent so far)."""
    lapsing: list[Lapsing]
    lapsed: list[Lapsing]
    notice_days: int


async def training_page(
    session: AsyncSession, config: AgencyConfig, *, now: datetime
) -> TrainingPage:
    lifecycle = lifecycle_of(config)
    rows = _rows(config, await roster_with_eligibility(session, config.slug, now=now), now)
    wanted = training_statuses(lifecycle)
    members = [
        MarkRow(r.member_id, r.line.name, r.status_words, "absent", None, None)
        for r in rows
        if r.line.status in wanted
    ]

    def lapse(row: RosterRow) -> Lapsing:
        return Lapsing(row.member_id, row.line.name, row.status_words, row.training)

    on_team = [r for r in rows if r.line.status == PAGEABLE]
    settings = config.policy.training
    return TrainingPage(
        sessions=await sessions_of(session, config.slug),
        members=members,
        lapsing=[lapse(r) for r in on_team if r.training.kind == "soon"],
        lapsed=[lapse(r) for r in on_team if r.training.kind in ("lapsed", "none")],
        notice_days=settings.notice_days if settings else 0,
    )


@dataclass(frozen=True, slots=True)
class MarkRow:
    member_id: str
    name: str
    status_words: str
    outcome: str
    """attended, excused or absent."""
    memo: str | None
    recorded_by: str | None
    on_roster: bool = True
    """False: the mark stays, and cannot be changed any more."""


@dataclass(frozen=True, slots=True)
class SessionPage:
    line: SessionLine
    rows: list[MarkRow]


async def session_page(
    session: AsyncSession, config: AgencyConfig, session_id: uuid.UUID, *, now: datetime
) -> SessionPage:
    """A session with a line for each member it marks and each it could still mark (the team
    and those in a training)."""
    lifecycle = lifecycle_of(config)
    view = await session_view(session, config.slug, session_id)
    lines = await roster_with_eligibility(session, config.slug, now=now)
    wanted = set(training_statuses(lifecycle))
    rows: list[MarkRow] = []
    for line in lines:
        mark = view.marks.get(line.member_id)
        if mark is None and line.status not in wanted:
            continue
        rows.append(
            MarkRow(
                member_id=line.member_id,
                name=line.name,
                status_words=lifecycle.status_words(line.status),
                outcome=mark.outcome if mark else "absent",
                memo=mark.memo if mark else None,
                recorded_by=mark.recorded_by if mark else None,
            )
        )
    on_roster = {line.member_id for line in lines}
    rows += [
        MarkRow(
            member_id, member_id, "no longer on the roster", mark.outcome, mark.memo, None, False
        )
        for member_id, mark in sorted(view.marks.items())
        if member_id not in on_roster
    ]
    return SessionPage(view.line, rows)
