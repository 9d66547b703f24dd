"""The console's read model, built from the pipeline's events (one transaction per event).

Each event is claimed once (`processed_events`, consumer `console`), so a redelivery changes
nothing; events of one incident arrive on several topics and so in any order, and every write
here is order-proof: a report or decision applies only when its revision is newer, an
assignment's state only moves forward (`STATE_RANK`), a closing is kept once. After the
transaction commits, the boards of the event's agency are told (`live.BOARD_CHANNEL`), so an
open board changes within a second of the event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.models import (
    BoardAssignment,
    BoardIncident,
    InboxAlert,
    PageDelivery,
    TestPhoneMessage,
    TimelineEntry,
)
from services.console.wording import (
    alert_reason_text,
    assignment_text,
    outcome_text,
    status_text,
)
from shared.events import (
    ActivationClosed,
    ActivationDecided,
    AnyEvent,
    ApprovalRecorded,
    AssignmentChanged,
    CoordinatorAlertRaised,
    IncidentReported,
    ManualPageRequested,
    MessageKeptUnsent,
    NoticeRequested,
    PageOutcomeReported,
    StandDownRequested,
)
from shared.processed_events import claim_event

CONSUMER = "console"

STATE_RANK = {
    "awaiting_approval": 1,
    "paged": 2,
    "calling": 3,
    "accepted": 4,
    "declined": 5,
    "timed_out": 5,
    "cancelled": 5,
}
"""An assignment's states in the order they can follow each other; ended states last."""


async def project(session: AsyncSession, event: AnyEvent) -> str | None:
    """Apply one event to the read model in the caller's transaction; returns the agency whose
    boards changed (None: not an event the console shows, or seen before)."""
    if not await claim_event(session, consumer=CONSUMER, event_id=str(event.event_id)):
        return None
    match event:
        case IncidentReported():
            return await _reported(session, event)
        case ActivationDecided():
            return await _decided(session, event)
        case ActivationClosed():
            return await _closed(session, event)
        case AssignmentChanged():
            return await _assignment_changed(session, event)
        case PageOutcomeReported():
            return await _page_outcome(session, event)
        case CoordinatorAlertRaised():
            return await _alert(session, event)
        case ApprovalRecorded():
            return await _timeline_only(
                session,
                event,
                event.incident_id,
                event.agency,
                "approval",
                f"{event.recorded_by} recorded the Bureau Director consult for {event.member_id}",
                {"member_id": event.member_id, "by": event.recorded_by},
            )
        case StandDownRequested():
            return await _timeline_only(
                session,
                event,
                event.incident_id,
                event.agency,
                "stand_down",
                f"{event.requested_by} stood the team down",
                {"by": event.requested_by},
            )
        case ManualPageRequested():
            return await _timeline_only(
                session,
                event,
                event.incident_id,
                event.agency,
                "manual_page",
                f"{event.requested_by} asked for {event.member_id} by hand",
                {"member_id": event.member_id, "by": event.requested_by},
            )
        case NoticeRequested():
            return await _timeline_only(
                session,
                event,
                event.incident_id,
                event.facts.agency,
                "notice",
                f"{event.member_id} is told by SMS that they are no longer needed",
                {"member_id": event.member_id},
            )
        case MessageKeptUnsent():
            return await _kept_unsent(session, event)
        case _:
            return None


async def _ensure_incident(
    session: AsyncSession, incident_id: uuid.UUID, agency: str, at: datetime
) -> None:
    await session.execute(
        insert(BoardIncident)
        .values(
            incident_id=incident_id,
            agency=agency,
            revision=0,
            decided_revision=0,
            activate=False,
            criteria=[],
            reasons=[],
            specialists=0,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=[BoardIncident.incident_id])
    )


def _timeline(
    session: AsyncSession,
    event: AnyEvent,
    incident_id: uuid.UUID,
    kind: str,
    text: str,
    detail: dict[str, Any],
) -> None:
    session.add(
        TimelineEntry(
            event_id=event.event_id,
            incident_id=incident_id,
            at=event.occurred_at,
            kind=kind,
            text=text,
            detail=detail,
        )
    )


async def _timeline_only(
    session: AsyncSession,
    event: AnyEvent,
    incident_id: uuid.UUID,
    agency: str,
    kind: str,
    text: str,
    detail: dict[str, Any],
) -> str:
    await _ensure_incident(session, incident_id, agency, event.occurred_at)
    _timeline(session, event, incident_id, kind, text, detail)
    await _touch(session, incident_id, event.occurred_at)
    return agency


async def _touch(session: AsyncSession, incident_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        update(BoardIncident)
        .where(BoardIncident.incident_id == incident_id)
        .values(updated_at=func.greatest(BoardIncident.updated_at, at))
    )


async def _reported(session: AsyncSession, event: IncidentReported) -> str:
    await _ensure_incident(session, event.incident_id, event.agency, event.occurred_at)
    await session.execute(
        update(BoardIncident)
        .where(
            BoardIncident.incident_id == event.incident_id,
            BoardIncident.revision < event.revision,
        )
        .values(
            revision=event.revision,
            report=event.report,
            reported_at=event.occurred_at,
            reporter_role=event.reporter.role,
        )
    )
    what = "reported" if event.revision == 1 else f"revised (revision {event.revision})"
    reporter = event.reporter
    role = "" if reporter.role == reporter.via else f" ({reporter.role})"  # a CAD's is "cad"
    _timeline(
        session,
        event,
        event.incident_id,
        "report",
        f"Incident {what} by {reporter.name}{role} via {reporter.via}",
        {"revision": event.revision, "report": event.report},
    )
    await _touch(session, event.incident_id, event.occurred_at)
    return event.agency


async def _decided(session: AsyncSession, event: ActivationDecided) -> str:
    await _ensure_incident(session, event.incident_id, event.agency, event.occurred_at)
    await session.execute(
        update(BoardIncident)
        .where(
            BoardIncident.incident_id == event.incident_id,
            BoardIncident.decided_revision < event.revision,
        )
        .values(
            decided_revision=event.revision,
            status=event.status,
            activate=event.activate,
            criteria=event.criteria,
            reasons=event.reasons,
            specialists=event.specialists,
            facts=event.facts.model_dump(mode="json"),
            decided_at=event.occurred_at,
        )
    )
    needed = f"; {event.specialists} specialists" if event.activate else ""
    _timeline(
        session,
        event,
        event.incident_id,
        "decision",
        f"Decided on revision {event.revision}: {status_text(event.status)}{needed}",
        {
            "revision": event.revision,
            "status": event.status,
            "criteria": event.criteria,
            "reasons": event.reasons,
            "specialists": event.specialists,
        },
    )
    await _touch(session, event.incident_id, event.occurred_at)
    return event.agency


async def _closed(session: AsyncSession, event: ActivationClosed) -> str:
    await _ensure_incident(session, event.incident_id, event.agency, event.occurred_at)
    await session.execute(
        update(BoardIncident)
        .where(BoardIncident.incident_id == event.incident_id, BoardIncident.closed_at.is_(None))
        .values(closed_at=event.occurred_at, closed_by=event.closed_by)
    )
    _timeline(
        session,
        event,
        event.incident_id,
        "closed",
        f"Closed: the team was stood down by {event.closed_by}",
        {"by": event.closed_by, "reason": event.reason},
    )
    await _touch(session, event.incident_id, event.occurred_at)
    return event.agency


async def _assignment_changed(session: AsyncSession, event: AssignmentChanged) -> str:
    await _ensure_incident(session, event.incident_id, event.agency, event.occurred_at)
    rank = STATE_RANK.get(event.state, 0)
    channel = {"paged": "sms", "calling": "call"}.get(event.state)
    new = insert(BoardAssignment).values(
        assignment_id=event.assignment_id,
        incident_id=event.incident_id,
        agency=event.agency,
        member_id=event.member_id,
        state=event.state,
        state_rank=rank,
        reason=event.reason,
        channel=channel,
        next_step_at=event.next_step_at,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[BoardAssignment.assignment_id],
            set_={
                "state": new.excluded.state,
                "state_rank": new.excluded.state_rank,
                "reason": new.excluded.reason,
                "channel": func.coalesce(new.excluded.channel, BoardAssignment.channel),
                "next_step_at": new.excluded.next_step_at,
                "updated_at": new.excluded.updated_at,
            },
            where=BoardAssignment.state_rank < new.excluded.state_rank,
        )
    )
    _timeline(
        session,
        event,
        event.incident_id,
        "assignment",
        assignment_text(event.member_id, event.state, event.reason, event.by),
        {
            "member_id": event.member_id,
            "state": event.state,
            "reason": event.reason,
            "next_step_at": event.next_step_at.isoformat() if event.next_step_at else None,
            "by": event.by,
        },
    )
    await _touch(session, event.incident_id, event.occurred_at)
    return event.agency


async def _page_outcome(session: AsyncSession, event: PageOutcomeReported) -> str | None:
    """May come before the assignment's or even the incident's first event (another topic):
    kept by assignment, and shown once they are known."""
    new = insert(PageDelivery).values(
        assignment_id=event.assignment_id, outcome=event.outcome, at=event.occurred_at
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[PageDelivery.assignment_id],
            set_={"outcome": new.excluded.outcome, "at": new.excluded.at},
            where=PageDelivery.at <= new.excluded.at,
        )
    )
    member_id = await session.scalar(
        select(BoardAssignment.member_id).where(
            BoardAssignment.assignment_id == event.assignment_id
        )
    )
    _timeline(
        session,
        event,
        event.incident_id,
        "page_outcome",
        outcome_text(member_id, event.channel, event.outcome),
        {
            "channel": event.channel,
            "outcome": event.outcome,
            "member_id": member_id,
            "assignment_id": str(event.assignment_id),
        },
    )
    await _touch(session, event.incident_id, event.occurred_at)
    return await session.scalar(
        select(BoardIncident.agency).where(BoardIncident.incident_id == event.incident_id)
    )


async def _alert(session: AsyncSession, event: CoordinatorAlertRaised) -> str:
    await session.execute(
        insert(InboxAlert)
        .values(
            alert_id=event.alert_id,
            agency=event.agency,
            incident_id=event.incident_id,
            reason=event.reason,
            message=event.message,
            raised_at=event.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=[InboxAlert.alert_id])
    )
    if event.incident_id is not None:
        await _ensure_incident(session, event.incident_id, event.agency, event.occurred_at)
        _timeline(
            session,
            event,
            event.incident_id,
            "alert",
            f"Coordinator alert ({alert_reason_text(event.reason)}): {event.message}",
            {"reason": event.reason, "alert_id": str(event.alert_id)},
        )
        await _touch(session, event.incident_id, event.occurred_at)
    return event.agency


async def _kept_unsent(session: AsyncSession, event: MessageKeptUnsent) -> str:
    session.add(
        TestPhoneMessage(
            event_id=event.event_id,
            agency=event.agency,
            phone=event.phone,
            direction="out",
            channel=event.channel,
            text=event.text,
            incident_id=event.incident_id,
            page_id=event.page_id,
            at=event.occurred_at,
        )
    )
    return event.agency
