"""Telling the coordinators: each alert stored once (by its dedupe key) and sent via the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.failure_tracking import (
    FAILURE_STATES,
    PageOutcome,
    coordinator_must_be_told,
    failures_in_last_12_months,
)
from shared.activation_records import Assignment, CoordinatorAlert
from shared.events import CoordinatorAlertRaised
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue

UNREACHABLE = "unreachable"
"""The reason of an assignment that ended because the page could not be sent at all."""


class AlertReason(StrEnum):
    NOBODY_LEFT = "nobody_left"
    APPROVAL_NEEDED = "approval_needed"
    REPEATED_FAILURES = "repeated_failures"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    UNUSABLE_REPORT = "unusable_report"


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
) -> bool:
    """Store the alert and send it, unless one with the same key was raised before."""
    alert_id = uuid.uuid4()
    inserted = (
        await session.execute(
            insert(CoordinatorAlert)
            .values(
                id=alert_id,
                agency=agency,
                incident_id=incident_id,
                reason=reason,
                message=message,
                dedupe_key=dedupe_key,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(CoordinatorAlert.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return False
    await enqueue(
        session,
        topics,
        CoordinatorAlertRaised(
            occurred_at=at,
            alert_id=alert_id,
            agency=agency,
            incident_id=incident_id,
            reason=reason,
            message=message,
        ),
    )
    return True


async def tell_of_repeated_failures(
    session: AsyncSession, topics: Topics, *, ended: Assignment, at: datetime
) -> bool:
    """After `ended` was declined or timed out: tell the coordinators at the member's third
    failure to assist within twelve months (FOP #4 §E.4.d), once.

    Pages that could not be sent at all (reason `unreachable`) are no failure of the member's.
    """
    rows = (
        await session.execute(
            select(Assignment.state_changed_at, Assignment.state).where(
                Assignment.agency == ended.agency,
                Assignment.member_id == ended.member_id,
                Assignment.id != ended.id,
                Assignment.state.in_([state.value for state in FAILURE_STATES]),
                Assignment.reason.is_distinct_from(UNREACHABLE),
            )
        )
    ).all()
    outcomes = [PageOutcome(row.state_changed_at, AssignmentState(row.state)) for row in rows]
    outcomes.append(PageOutcome(at, AssignmentState(ended.state)))
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
    )
