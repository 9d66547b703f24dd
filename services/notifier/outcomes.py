"""Reporting what became of a page to the dispatcher, through the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.metrics import OUTCOMES
from services.notifier.models import NotifierPage
from services.notifier.page_states import PageKind
from shared.events import PageOutcome, PageOutcomeReported
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue


async def report_outcome(
    session: AsyncSession,
    topics: Topics,
    *,
    page: NotifierPage,
    outcome: PageOutcome,
    at: datetime,
    detail: str | None = None,
    channel: Literal["sms", "call"] | None = None,
) -> None:
    """Enqueue `PageOutcomeReported` for a specialist's page; alerts report nothing."""
    if page.kind != PageKind.PAGE or page.assignment_id is None or page.incident_id is None:
        return
    reported_channel: Literal["sms", "call"] = channel or (
        "sms" if page.channel == "sms" else "call"
    )
    await enqueue(
        session,
        topics,
        PageOutcomeReported(
            occurred_at=at,
            assignment_id=page.assignment_id,
            incident_id=page.incident_id,
            channel=reported_channel,
            outcome=outcome,
            detail=detail[:500] if detail else None,
        ),
    )
    OUTCOMES.labels(reported_channel, outcome).inc()
