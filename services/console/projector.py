"""The console's read model, built from the pipeline's events.

Every write here is idempotent and order-proof by itself, so no event needs a separate claim:
each event's timeline line is inserted once (unique `event_id`; a redelivered event finds its
line there and changes nothing else), a report or decision applies only when its revision is
newer, an assignment's state only moves forward (`STATE_RANK`), a closing is kept once, a page
outcome only replaces an older one. Events of one incident arrive on four topics and so in any
order; whichever comes first creates what it needs. Core statements throughout: this runs for
every event of the pipeline.

`project` returns the agency and incident whose boards changed; the caller notifies them after
its writes (`live.notify_board`), in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
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
from services.console.wording import alert_reason_text, assignment_text, status_text
from services.dispatcher.alerts import AlertReason
from services.dispatcher.failure_tracking import (
    FAILURES_BEFORE_NOTICE,
)
from services.reports import projection as report_projection
from shared.events import (
    ActivationClosed,
    ActivationDecided,
    AnyEvent,
    ApprovalRecorded,
    AssignmentChanged,
    ContactLogged,
    ContactLogInvited,
    CoordinatorAlertRaised,
    IncidentReported,
    ManualPageRequested,
    MessageKeptUnsent,
    NoticeRequested,
    OvertimeHoursLogged,
    PageOutcomeReported,
    StandDownRequested,
)
from shared.roster import reviews

REPEATED_FAILURES = AlertReason.REPEATED_FAILURES.value
"""The alert that opens a review of the member it names (FOP #4 §E.4.d)."""

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

SHOWN = (
    IncidentReported,
    ActivationDecided,
    ActivationClosed,
    AssignmentChanged,
    PageOutcomeReported,
    CoordinatorAlertRaised,
    ApprovalRecorded,
    StandDownRequested,
    ManualPageRequested,
    NoticeRequested,
    MessageKeptUnsent,
    ContactLogInvited,
    ContactLogged,
    OvertimeHoursLogged,
)
"""The events the console shows (the last three: for its reports); the others of its topics
(page requests, withdrawals) it skips without a statement."""

Changed = tuple[str, uuid.UUID | None] | None

INCIDENTS = cast(Table, BoardIncident.__table__)
ASSIGNMENTS = cast(Table, BoardAssignment.__table__)
DELIVERIES = cast(Table, PageDelivery.__table__)
TIMELINE = cast(Table, TimelineEntry.__table__)
ALERTS = cast(Table, InboxAlert.__table__)
PHONES = cast(Table, TestPhoneMessage.__table__)

_LINE = (
    insert(TIMELINE)
    .on_conflict_do_nothing(index_elements=[TIMELINE.c.event_id])
    .returning(TIMELINE.c.id)
)


def _incident_upsert(set_: dict[str, Any], where: Any, *, earliest: str | None = None) -> Any:
    """`set_`'s columns from the newer event; `earliest`: a column that keeps its earliest
    value."""
    new = insert(INCIDENTS)
    kept = {}
    if earliest is not None:
        older = func.coalesce(INCIDENTS.c[earliest], new.excluded[earliest])
        kept[earliest] = func.least(older, new.excluded[earliest])
    return new.on_conflict_do_update(
        index_elements=[INCIDENTS.c.incident_id],
        set_={name: new.excluded[name] for name in set_}
        | kept
        | {"updated_at": func.greatest(INCIDENTS.c.updated_at, new.excluded.updated_at)},
        where=where(new),
    )


_REPORTED = _incident_upsert(
    {"revision": 0, "report": 0, "reported_at": 0, "reporter_role": 0},
    lambda new: INCIDENTS.c.revision < new.excluded.revision,
    earliest="first_reported_at",
)
"""A newer revision's report; the first report's time stays (statistics count from it). The
incidents topic is keyed by incident, so revisions arrive in order."""
_DECIDED = _incident_upsert(
    {
        "decided_revision": 0,
        "status": 0,
        "activate": 0,
        "criteria": 0,
        "reasons": 0,
        "specialists": 0,
        "facts": 0,
        "decided_at": 0,
    },
    lambda new: INCIDENTS.c.decided_revision < new.excluded.decided_revision,
)
_CLOSED = _incident_upsert(
    {"closed_at": 0, "closed_by": 0}, lambda new: INCIDENTS.c.closed_at.is_(None)
)
_NEW_ASSIGNMENT = insert(ASSIGNMENTS)
_ASSIGNMENT_MOVED = _NEW_ASSIGNMENT.on_conflict_do_update(
    index_elements=[ASSIGNMENTS.c.assignment_id],
    set_={
        "state": _NEW_ASSIGNMENT.excluded.state,
        "state_rank": _NEW_ASSIGNMENT.excluded.state_rank,
        "reason": _NEW_ASSIGNMENT.excluded.reason,
        "channel": func.coalesce(_NEW_ASSIGNMENT.excluded.channel, ASSIGNMENTS.c.channel),
        "next_step_at": _NEW_ASSIGNMENT.excluded.next_step_at,
        "paged": ASSIGNMENTS.c.paged | _NEW_ASSIGNMENT.excluded.paged,
        "called": ASSIGNMENTS.c.called | _NEW_ASSIGNMENT.excluded.called,
        "accepted_at": func.coalesce(
            ASSIGNMENTS.c.accepted_at, _NEW_ASSIGNMENT.excluded.accepted_at
        ),
        "updated_at": _NEW_ASSIGNMENT.excluded.updated_at,
    },
    where=ASSIGNMENTS.c.state_rank < _NEW_ASSIGNMENT.excluded.state_rank,
)
_DELIVERED_ASSIGNMENT = bindparam("delivered_assignment", type_=DELIVERIES.c.assignment_id.type)
_NEW_DELIVERY = insert(DELIVERIES).values(
    assignment_id=_DELIVERED_ASSIGNMENT,
    outcome=bindparam("delivered_outcome", type_=DELIVERIES.c.outcome.type),
    at=bindparam("delivered_at", type_=DELIVERIES.c.at.type),
)
_DELIVERED = (
    select(ASSIGNMENTS.c.agency)
    .where(ASSIGNMENTS.c.assignment_id == _DELIVERED_ASSIGNMENT)
    .add_cte(
        _NEW_DELIVERY.on_conflict_do_update(
            index_elements=[DELIVERIES.c.assignment_id],
            set_={"outcome": _NEW_DELIVERY.excluded.outcome, "at": _NEW_DELIVERY.excluded.at},
            where=DELIVERIES.c.at <= _NEW_DELIVERY.excluded.at,
        ).cte("delivered")
    )
)
"""The newest outcome of a page, and the agency of its assignment if the console knows it yet."""
_NEW_ALERT = insert(ALERTS).on_conflict_do_nothing(index_elements=[ALERTS.c.alert_id])


def _blank_incident(incident_id: uuid.UUID, agency: str, at: datetime) -> dict[str, Any]:
    """Every column an incident's first event must give, whichever event it is."""
    return {
        "incident_id": incident_id,
        "agency": agency,
        "revision": 0,
        "report": None,
        "reported_at": None,
        "first_reported_at": None,
        "reporter_role": None,
        "decided_revision": 0,
        "status": None,
        "activate": False,
        "criteria": [],
        "reasons": [],
        "specialists": 0,
        "facts": None,
        "decided_at": None,
        "closed_at": None,
        "closed_by": None,
        "created_at": at,
        "updated_at": at,
    }


async def _line(
    session: AsyncSession,
    event: AnyEvent,
    incident_id: uuid.UUID,
    kind: str,
    text: str,
    detail: dict[str, Any],
) -> bool:
    """The event's line on its incident's timeline; False when the event came before."""
    inserted = await session.execute(
        _LINE,
        {
            "event_id": event.event_id,
            "incident_id": incident_id,
            "at": event.occurred_at,
            "kind": kind,
            "text": text,
            "detail": detail,
        },
    )
    return inserted.first() is not None


async def project(session: AsyncSession, event: AnyEvent) -> Changed:
    """Apply one event to the read model in the caller's transaction; returns the agency (and
    incident) whose boards changed, or None (not an event the console shows, or seen before)."""
    match event:
        case IncidentReported():
            return await _reported(session, event)
        case ActivationDecided():
            return await _decided(session, event)
        case ActivationClosed():
            if not await _line(
                session,
                event,
                event.incident_id,
                "closed",
                f"Closed: the team was stood down by {event.closed_by}",
                {"by": event.closed_by, "reason": event.reason},
            ):
                return None
            await session.execute(
                _CLOSED,
                _blank_incident(event.incident_id, event.agency, event.occurred_at)
                | {"closed_at": event.occurred_at, "closed_by": event.closed_by},
            )
            return event.agency, event.incident_id
        case AssignmentChanged():
            return await _assignment_changed(session, event)
        case PageOutcomeReported():
            return await _page_outcome(session, event)
        case CoordinatorAlertRaised():
            return await _alert(session, event)
        case ApprovalRecorded():
            text = f"{event.recorded_by} recorded the Bureau Director consult for {event.member_id}"
            detail = {"member_id": event.member_id, "by": event.recorded_by}
            return await _only_a_line(session, event, event.agency, "approval", text, detail)
        case StandDownRequested():
            text = f"{event.requested_by} stood the team down"
            detail = {"by": event.requested_by}
            return await _only_a_line(session, event, event.agency, "stand_down", text, detail)
        case ManualPageRequested():
            text = f"{event.requested_by} asked for {event.member_id} by hand"
            detail = {"member_id": event.member_id, "by": event.requested_by}
            return await _only_a_line(session, event, event.agency, "manual_page", text, detail)
        case NoticeRequested():
            text = f"{event.member_id} is told by SMS that they are no longer needed"
            detail = {"member_id": event.member_id}
            return await _only_a_line(session, event, event.facts.agency, "notice", text, detail)
        case MessageKeptUnsent():
            return await _kept_unsent(session, event)
        case ContactLogInvited():
            await report_projection.call_out_ended(session, event)
            return None
        case ContactLogged():
            await report_projection.contact_logged(session, event)
            return None
        case OvertimeHoursLogged():
            await report_projection.overtime_hours(session, event)
            return None
        case _:
            return None


async def _only_a_line(
    session: AsyncSession,
    event: ApprovalRecorded | StandDownRequested | ManualPageRequested | NoticeRequested,
    agency: str,
    kind: str,
    text: str,
    detail: dict[str, Any],
) -> Changed:
    if not await _line(session, event, event.incident_id, kind, text, detail):
        return None
    return agency, event.incident_id


async def _reported(session: AsyncSession, event: IncidentReported) -> Changed:
    reporter = event.reporter
    role = "" if reporter.role == reporter.via else f" ({reporter.role})"  # a CAD's is "cad"
    what = "reported" if event.revision == 1 else f"revised (revision {event.revision})"
    if not await _line(
        session,
        event,
        event.incident_id,
        "report",
        f"Incident {what} by {reporter.name}{role} via {reporter.via}",
        {"revision": event.revision, "report": event.report},
    ):
        return None
    await session.execute(
        _REPORTED,
        _blank_incident(event.incident_id, event.agency, event.occurred_at)
        | {
            "revision": event.revision,
            "report": event.report,
            "reported_at": event.occurred_at,
            "first_reported_at": event.occurred_at,
            "reporter_role": reporter.role,
        },
    )
    return event.agency, event.incident_id


async def _decided(session: AsyncSession, event: ActivationDecided) -> Changed:
    needed = f"; {event.specialists} specialists" if event.activate else ""
    if not await _line(
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
    ):
        return None
    await session.execute(
        _DECIDED,
        _blank_incident(event.incident_id, event.agency, event.occurred_at)
        | {
            "decided_revision": event.revision,
            "status": event.status,
            "activate": event.activate,
            "criteria": event.criteria,
            "reasons": event.reasons,
            "specialists": event.specialists,
            "facts": event.facts.model_dump(mode="json"),
            "decided_at": event.occurred_at,
        },
    )
    return event.agency, event.incident_id


async def _assignment_changed(session: AsyncSession, event: AssignmentChanged) -> Changed:
    if not await _line(
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
    ):
        return None
    await session.execute(
        _ASSIGNMENT_MOVED,
        {
            "assignment_id": event.assignment_id,
            "incident_id": event.incident_id,
            "agency": event.agency,
            "member_id": event.member_id,
            "state": event.state,
            "state_rank": STATE_RANK.get(event.state, 0),
            "reason": event.reason,
            "channel": {"paged": "sms", "calling": "call"}.get(event.state),
            "next_step_at": event.next_step_at,
            "paged": event.state == "paged",
            "called": event.state == "calling",
            "accepted_at": event.occurred_at if event.state == "accepted" else None,
            "created_at": event.occurred_at,
            "updated_at": event.occurred_at,
        },
    )
    return event.agency, event.incident_id


async def _page_outcome(session: AsyncSession, event: PageOutcomeReported) -> Changed:
    """May come before the assignment's first event (another topic): kept by assignment and
    shown once the assignment is known. Its line names the specialist when it is read
    (`read_model.timeline`), as the assignment may not be known yet."""
    if not await _line(
        session,
        event,
        event.incident_id,
        "page_outcome",
        "",
        {
            "channel": event.channel,
            "outcome": event.outcome,
            "assignment_id": str(event.assignment_id),
        },
    ):
        return None
    agency = await session.scalar(
        _DELIVERED,
        {
            "delivered_assignment": event.assignment_id,
            "delivered_outcome": event.outcome,
            "delivered_at": event.occurred_at,
        },
    )
    return None if agency is None else (agency, event.incident_id)


async def _alert(session: AsyncSession, event: CoordinatorAlertRaised) -> Changed:
    await session.execute(
        _NEW_ALERT,
        {
            "alert_id": event.alert_id,
            "agency": event.agency,
            "incident_id": event.incident_id,
            "reason": event.reason,
            "message": event.message,
            "raised_at": event.occurred_at,
            "acknowledged_at": None,
            "acknowledged_by": None,
        },
    )
    if event.reason == REPEATED_FAILURES and event.member_id is not None:
        await reviews.open_review(
            session,
            agency=event.agency,
            member_id=event.member_id,
            alert_id=event.alert_id,
            opened_at=event.occurred_at,
            failures=max(event.failures or 0, FAILURES_BEFORE_NOTICE),
        )
    if event.incident_id is None:
        return event.agency, None
    await _line(
        session,
        event,
        event.incident_id,
        "alert",
        f"Coordinator alert ({alert_reason_text(event.reason)}): {event.message}",
        {"reason": event.reason, "alert_id": str(event.alert_id)},
    )
    return event.agency, event.incident_id


async def _kept_unsent(session: AsyncSession, event: MessageKeptUnsent) -> Changed:
    inserted = await session.execute(
        insert(PHONES)
        .on_conflict_do_nothing(index_elements=[PHONES.c.event_id])
        .returning(PHONES.c.id),
        {
            "event_id": event.event_id,
            "agency": event.agency,
            "phone": event.phone,
            "direction": "out",
            "channel": event.channel,
            "text": event.text,
            "incident_id": event.incident_id,
            "page_id": event.page_id,
            "at": event.occurred_at,
        },
    )
    return (event.agency, None) if inserted.first() is not None else None
