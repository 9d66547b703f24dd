"""What the console's pages show, read from its read model (no writes).

Names come from the agency's roster (the specialists the coordinators know by name); the
incident's persons are never named anywhere: reports carry roles and member ids only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.models import (
    BoardAssignment,
    BoardIncident,
    ConsoleRequest,
    InboxAlert,
    PageDelivery,
    TestPhoneMessage,
    TimelineEntry,
)
from services.console.wording import outcome_text
from shared.roster.models import RosterEntry

OPEN_STATES = ("awaiting_approval", "paged", "calling", "accepted")
BOARD_LIMIT = 1000
"""The board shows at most this many open incidents (newest first)."""


@dataclass(frozen=True, slots=True)
class AssignmentView:
    assignment_id: uuid.UUID
    member_id: str
    name: str | None
    state: str
    reason: str | None
    next_step_at: datetime | None
    delivery: str | None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident_id: uuid.UUID
    agency: str
    revision: int
    report: dict[str, Any] | None
    reported_at: datetime | None
    status: str | None
    activate: bool
    criteria: list[str]
    reasons: list[str]
    specialists: int
    facts: dict[str, Any] | None
    closed_at: datetime | None
    closed_by: str | None
    reporter_role: str | None
    created_at: datetime
    updated_at: datetime
    assignments: list[AssignmentView]

    @property
    def accepted(self) -> int:
        return sum(1 for a in self.assignments if a.state == "accepted")

    @property
    def occurred_at(self) -> str | None:
        if self.facts:
            return str(self.facts["occurred_at"])
        if self.report:
            return str(self.report.get("occurred_at"))
        return None

    @property
    def event(self) -> str | None:
        if self.facts:
            return str(self.facts["event"])
        if self.report:
            return str(self.report.get("event"))
        return None

    @property
    def address(self) -> str | None:
        if self.facts and self.facts.get("address"):
            return str(self.facts["address"])
        location = (self.report or {}).get("location") or {}
        address = location.get("address")
        return str(address) if address else None

    @property
    def external_id(self) -> str | None:
        value = (self.report or {}).get("external_id")
        return str(value) if value else None


@dataclass(frozen=True, slots=True)
class TimelineLine:
    at: datetime
    kind: str
    text: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertView:
    alert_id: uuid.UUID
    incident_id: uuid.UUID | None
    reason: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class PhoneMessage:
    direction: str
    channel: str
    text: str
    at: datetime
    page_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class TestPhone:
    phone: str
    name: str | None
    member_id: str | None
    messages: list[PhoneMessage]


async def roster_names(session: AsyncSession, agency: str) -> dict[str, str]:
    rows = await session.execute(
        select(RosterEntry.member_id, RosterEntry.name).where(RosterEntry.agency == agency)
    )
    return {member_id: name for member_id, name in rows.all()}


Delivered = dict[uuid.UUID, str]


async def _deliveries(session: AsyncSession, assignment_ids: list[uuid.UUID]) -> Delivered:
    if not assignment_ids:
        return {}
    rows = await session.execute(
        select(PageDelivery.assignment_id, PageDelivery.outcome).where(
            PageDelivery.assignment_id.in_(assignment_ids)
        )
    )
    return {assignment_id: outcome for assignment_id, outcome in rows.all()}


def _incident(
    row: BoardIncident,
    assignments: list[BoardAssignment],
    names: dict[str, str],
    delivered: Delivered,
) -> IncidentView:
    return IncidentView(
        incident_id=row.incident_id,
        agency=row.agency,
        revision=row.revision,
        report=row.report,
        reported_at=row.reported_at,
        status=row.status,
        activate=row.activate,
        criteria=list(row.criteria),
        reasons=list(row.reasons),
        specialists=row.specialists,
        facts=row.facts,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        reporter_role=row.reporter_role,
        created_at=row.created_at,
        updated_at=row.updated_at,
        assignments=[
            AssignmentView(
                assignment_id=a.assignment_id,
                member_id=a.member_id,
                name=names.get(a.member_id),
                state=a.state,
                reason=a.reason,
                next_step_at=a.next_step_at,
                delivery=delivered.get(a.assignment_id),
                updated_at=a.updated_at,
            )
            for a in sorted(assignments, key=lambda a: (a.created_at, a.member_id))
        ],
    )


async def open_incidents(session: AsyncSession, agency: str) -> list[IncidentView]:
    """The agency's open incidents, newest first, with their assignments: the board."""
    incidents = list(
        await session.scalars(
            select(BoardIncident)
            .where(BoardIncident.agency == agency, BoardIncident.closed_at.is_(None))
            .order_by(BoardIncident.created_at.desc(), BoardIncident.incident_id)
            .limit(BOARD_LIMIT)
        )
    )
    if not incidents:
        return []
    by_incident: dict[uuid.UUID, list[BoardAssignment]] = defaultdict(list)
    for assignment in await session.scalars(
        select(BoardAssignment).where(
            BoardAssignment.incident_id.in_([i.incident_id for i in incidents])
        )
    ):
        by_incident[assignment.incident_id].append(assignment)
    names = await roster_names(session, agency)
    delivered = await _deliveries(
        session, [a.assignment_id for group in by_incident.values() for a in group]
    )
    return [_incident(i, by_incident[i.incident_id], names, delivered) for i in incidents]


async def open_count(session: AsyncSession, agency: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(BoardIncident)
        .where(BoardIncident.agency == agency, BoardIncident.closed_at.is_(None))
    )
    return int(found or 0)


async def incident(
    session: AsyncSession, agency: str, incident_id: uuid.UUID
) -> IncidentView | None:
    """One incident of the agency (None for another agency's: the caller answers 404)."""
    row = await session.get(BoardIncident, incident_id)
    if row is None or row.agency != agency:
        return None
    assignments = list(
        await session.scalars(
            select(BoardAssignment).where(BoardAssignment.incident_id == incident_id)
        )
    )
    delivered = await _deliveries(session, [a.assignment_id for a in assignments])
    return _incident(row, assignments, await roster_names(session, agency), delivered)


async def timeline(session: AsyncSession, incident_id: uuid.UUID) -> list[TimelineLine]:
    """The incident's lines, oldest first; a page outcome's names its specialist now, as it
    may have been kept before the console knew the assignment."""
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    members = {
        str(assignment_id): member_id
        for assignment_id, member_id in await session.execute(
            select(BoardAssignment.assignment_id, BoardAssignment.member_id).where(
                BoardAssignment.incident_id == incident_id
            )
        )
    }
    lines = []
    for row in rows:
        detail = dict(row.detail)
        text = row.text
        if row.kind == "page_outcome":
            member = members.get(str(detail.get("assignment_id")))
            text = outcome_text(member, str(detail["channel"]), str(detail["outcome"]))
        lines.append(TimelineLine(row.at, row.kind, text, detail))
    return lines


def _alert(row: InboxAlert) -> AlertView:
    return AlertView(
        alert_id=row.alert_id,
        incident_id=row.incident_id,
        reason=row.reason,
        message=row.message,
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


async def alerts(
    session: AsyncSession,
    agency: str,
    *,
    incident_id: uuid.UUID | None = None,
    limit: int = 200,
) -> list[AlertView]:
    """The agency's alerts (of one incident when given), unacknowledged first, newest first."""
    query = select(InboxAlert).where(InboxAlert.agency == agency)
    if incident_id is not None:
        query = query.where(InboxAlert.incident_id == incident_id)
    rows = await session.scalars(
        query.order_by(InboxAlert.acknowledged_at.is_not(None), InboxAlert.raised_at.desc()).limit(
            limit
        )
    )
    return [_alert(r) for r in rows]


async def unacknowledged_alerts(session: AsyncSession, agency: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(InboxAlert)
        .where(InboxAlert.agency == agency, InboxAlert.acknowledged_at.is_(None))
    )
    return int(found or 0)


async def test_phones(session: AsyncSession, agency: str) -> list[TestPhone]:
    """Every number the service would have texted or called, with its messages, and the
    specialists of the roster who have had none yet (so a trainer can text in first)."""
    roster = list(
        await session.execute(
            select(RosterEntry.phone, RosterEntry.name, RosterEntry.member_id)
            .where(RosterEntry.agency == agency)
            .order_by(RosterEntry.name)
        )
    )
    messages: dict[str, list[PhoneMessage]] = defaultdict(list)
    for row in await session.scalars(
        select(TestPhoneMessage)
        .where(TestPhoneMessage.agency == agency)
        .order_by(TestPhoneMessage.at, TestPhoneMessage.id)
    ):
        messages[row.phone].append(
            PhoneMessage(row.direction, row.channel, row.text, row.at, row.page_id)
        )
    known = {phone: (name, member_id) for phone, name, member_id in roster}
    phones = []
    for phone, sent in messages.items():
        name, member_id = known.get(phone, (None, None))
        phones.append(TestPhone(phone, name, member_id, sent))
    phones.sort(key=lambda p: p.messages[-1].at, reverse=True)
    phones += [
        TestPhone(phone, name, member_id, [])
        for phone, name, member_id in roster
        if phone not in messages
    ]
    return phones


async def own_requests(session: AsyncSession, user_id: uuid.UUID) -> list[IncidentView]:
    """The incidents a commander or supervisor reported with the console's form, newest first;
    one the read model has not seen yet shows as being decided (nothing known of it here)."""
    rows = list(
        await session.execute(
            select(ConsoleRequest, BoardIncident)
            .outerjoin(BoardIncident, ConsoleRequest.incident_id == BoardIncident.incident_id)
            .where(ConsoleRequest.user_id == user_id)
            .order_by(ConsoleRequest.created_at.desc())
            .limit(50)
        )
    )
    incidents = [
        board
        if board is not None
        else BoardIncident(
            incident_id=request.incident_id,
            agency=request.agency,
            revision=0,
            activate=False,
            criteria=[],
            reasons=[],
            specialists=0,
            created_at=request.created_at,
            updated_at=request.created_at,
        )
        for request, board in rows
    ]
    by_incident: dict[uuid.UUID, list[BoardAssignment]] = defaultdict(list)
    if incidents:
        for assignment in await session.scalars(
            select(BoardAssignment).where(
                BoardAssignment.incident_id.in_([i.incident_id for i in incidents])
            )
        ):
            by_incident[assignment.incident_id].append(assignment)
    # no names: a requester follows the staffing of their request, not who goes
    return [_incident(i, by_incident[i.incident_id], {}, {}) for i in incidents]
