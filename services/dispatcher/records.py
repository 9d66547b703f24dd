"""Reading and locking an incident's decision and assignments (data functions: no commits).

Every change to an incident's assignments first locks its decision row, so the dispatchers of
a consumer group (and their timer loops) take their turns on one incident; the database's
constraints stay the last word should anything skip the lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.models import RecordedApproval
from shared.activation_records import ActivationDecision, Assignment


async def lock_decision(session: AsyncSession, incident_id: uuid.UUID) -> ActivationDecision | None:
    """The incident's decision, locked for this transaction; None if none was made yet."""
    return (
        await session.execute(
            select(ActivationDecision)
            .where(ActivationDecision.incident_id == incident_id)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def incident_assignments(
    session: AsyncSession, incident_id: uuid.UUID
) -> Sequence[Assignment]:
    """Every assignment of the incident, in any state, oldest first."""
    return (
        await session.scalars(
            select(Assignment)
            .where(Assignment.incident_id == incident_id)
            .order_by(Assignment.created_at, Assignment.slot)
        )
    ).all()


async def lock_assignment(session: AsyncSession, assignment_id: uuid.UUID) -> Assignment | None:
    return (
        await session.execute(
            select(Assignment).where(Assignment.id == assignment_id).with_for_update()
        )
    ).scalar_one_or_none()


async def approved_member_ids(session: AsyncSession, incident_id: uuid.UUID) -> set[str]:
    """Members whose Bureau Director consult a coordinator recorded for this incident."""
    rows = await session.scalars(
        select(RecordedApproval.member_id).where(RecordedApproval.incident_id == incident_id)
    )
    return set(rows.all())
