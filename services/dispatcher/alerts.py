"""Telling the coordinators: each alert stored once (by its dedupe key) and sent via the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.failure_tracking import (
    FAILURE_STATES,
    PageOutcome,
    coordinator_must_be_told,
    failures_in_last_12_months,
)
from services.dispatcher.records import AssignmentRow
from services.dispatcher.tables import ALERTS, ASSIGNMENTS
from shared.events import CoordinatorAlertRaised
from shared.kafka.topics import Topics
from shared.outbox.rows import write_events

UNREACHABLE = "unreachable"
"""The reason of an assignment that ended because the page could not be sent at all."""


class AlertReason(StrEnum):
    NOBODY_LEFT = "nobody_left"
    APPROVAL_NEEDED = "approval_needed"
    REPEATED_FAILURES = "repeated_failures"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    UNUSABLE_REPORT = "unusable_report"
    MANUAL_PAGE_REFUSED = "manual_page_refused"


_NEW_ALERT = (
    insert(ALERTS)
    .on_conflict_do_nothing(index_elements=[ALERTS.c.dedupe_key])
    .returning(ALERTS.c.id)
)

_OTHER_FAILURES = select(ASSIGNMENTS.c.state_changed_at, ASSIGNMENTS.c.state).where(
    ASSIGNMENTS.c.agency == bindparam("agency"),
    ASSIGNMENTS.c.member_id == bindparam("member_id"),
    ASSIGNMENTS.c.id != bindparam("assignment_id"),
    ASSIGNMENTS.c.state.in_([state.value for state in FAILURE_STATES]),
    ASSIGNMENTS.c.reason.is_distinct_from(UNREACHABLE),
)
"""The member's declined and unanswered pages but one (parameters: agency, member_id,
assignment_id), those that could not be sent at all left out."""


async def raise_alert(
    session: AsyncSession,
    topics: Topics,
    *,
    agency: str,
    incident_id: uuid.UUID | None,
    reason: AlertReason,
    message: str,
    dedupe_key: str,
    at: datetime,
    member_id: str | None = None,
    failures: int | None = None,
) -> bool:
    """Store the alert and send it, unless one with the same key was raised before;
    `member_id`: the specialist it is about, when it is about one (and `failures`, the
    failures to assist counted, for a review)."""
    alert_id = uuid.uuid4()
    inserted = (
        await session.execute(
            _NEW_ALERT,
            {
                "id": alert_id,
                "agency": agency,
                "incident_id": incident_id,
                "reason": reason.value,
                "message": message,
                "dedupe_key": dedupe_key,
                "created_at": at,
            },
        )
    ).scalar_one_or_none()
    if inserted is None:
        return False
    await write_events(
        session,
        topics,
        CoordinatorAlertRaised(
            occurred_at=at,
            alert_id=alert_id,
            agency=agency,
            incident_id=incident_id,
            reason=reason,
            message=message,
            member_id=member_id,
            failures=failures,
        ),
    )
    return True


async def tell_of_repeated_failures(
    session: AsyncSession, topics: Topics, *, ended: AssignmentRow, at: datetime
) -> bool:
    """After `ended` was declined or timed out: tell the coordinators at the member's third
    failure to assist within twelve months (FOP #4 §E.4.d), once.

    Pages that could not be sent at all (reason `unreachable`) are no failure of the member's.
    """
    rows = (
        await session.execute(
            _OTHER_FAILURES,
            {"agency": ended.agency, "member_id": ended.member_id, "assignment_id": ended.id},
        )
    ).all()
    outcomes = [PageOutcome(row.state_changed_at, AssignmentState(row.state)) for row in rows]
    outcomes.append(PageOutcome(at, ended.state))
    if not coordinator_must_be_told(outcomes, now=at):
        return False
    count = failures_in_last_12_months(outcomes, now=at)
    return await raise_alert(
        session,
        topics,
        agency=ended.agency,
        incident_id=ended.incident_id,
        reason=AlertReason.REPEATED_FAILURES,
        message=(
            f"Specialist {ended.member_id} has declined or not answered {count} pages in the "
            "last 12 months: a failure to assist after being requested three times."
        ),
        dedupe_key=f"{AlertReason.REPEATED_FAILURES}:{ended.id}",
        at=at,
        member_id=ended.member_id,
        failures=count,
    )
