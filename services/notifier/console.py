"""What the coordinators' console reads of the notifier: the pages kept unsent while Twilio is
not configured (the local stack as a demo). Page texts carry no names of people harmed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import NotifierPage
from services.notifier.page_states import SendState


@dataclass(frozen=True, slots=True)
class UnsentPage:
    page_id: uuid.UUID
    kind: str
    channel: str
    agency: str
    incident_id: uuid.UUID | None
    assignment_id: uuid.UUID | None
    member_id: str | None
    phone: str
    text: str
    created_at: datetime


async def pages_not_sent(
    session: AsyncSession, *, agency: str, limit: int = 100
) -> list[UnsentPage]:
    """The agency's pages and alerts marked not sent, newest first."""
    rows = await session.scalars(
        select(NotifierPage)
        .where(NotifierPage.agency == agency, NotifierPage.state == SendState.NOT_SENT.value)
        .order_by(NotifierPage.created_at.desc(), NotifierPage.id)
        .limit(limit)
    )
    return [
        UnsentPage(
            page_id=row.id,
            kind=row.kind,
            channel=row.channel,
            agency=row.agency,
            incident_id=row.incident_id,
            assignment_id=row.assignment_id,
            member_id=row.member_id,
            phone=row.phone,
            text=row.body,
            created_at=row.created_at,
        )
        for row in rows
    ]
