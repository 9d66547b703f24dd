"""Reporting what became of a page to the dispatcher, through the outbox.

The outbox rows are written by `shared.outbox.rows.OUTBOX_INSERT` (one array per column), so
any number of outcomes is one statement, which the sender also folds into the statement that
records its pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.metrics import OUTCOMES
from services.notifier.page_states import PageKind
from shared.events import PageOutcome, PageOutcomeReported
from shared.kafka.topics import Topics
from shared.outbox.enqueue import flag_outbox_written
from shared.outbox.rows import OUTBOX_INSERT, outbox_parameters


class ReportedPage(Protocol):
    """What an outcome needs to know of its page (a `NotifierPage` or the sender's row)."""

    @property
    def kind(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def assignment_id(self) -> uuid.UUID | None: ...

    @property
    def incident_id(self) -> uuid.UUID | None: ...


def outcome_event(
    page: ReportedPage,
    *,
    outcome: PageOutcome,
    at: datetime,
    detail: str | None = None,
    channel: Literal["sms", "call"] | None = None,
) -> PageOutcomeReported | None:
    """`PageOutcomeReported` for a specialist's page; None for an alert, which reports nothing."""
    if page.kind != PageKind.PAGE or page.assignment_id is None or page.incident_id is None:
        return None
    reported_channel: Literal["sms", "call"] = channel or (
        "sms" if page.channel == "sms" else "call"
    )
    return PageOutcomeReported(
        occurred_at=at,
        assignment_id=page.assignment_id,
        incident_id=page.incident_id,
        channel=reported_channel,
        outcome=outcome,
        detail=detail[:500] if detail else None,
    )


def count_reported(events: Sequence[PageOutcomeReported]) -> None:
    for event in events:
        OUTCOMES.labels(event.channel, event.outcome).inc()


async def report_outcomes(
    session: AsyncSession, topics: Topics, events: Sequence[PageOutcomeReported]
) -> None:
    """Enqueue the events in the caller's transaction; its commit wakes the relay."""
    if not events:
        return
    await session.execute(OUTBOX_INSERT, outbox_parameters(topics, events))
    count_reported(events)
    await flag_outbox_written(session)


async def report_outcome(
    session: AsyncSession,
    topics: Topics,
    *,
    page: ReportedPage,
    outcome: PageOutcome,
    at: datetime,
    detail: str | None = None,
    channel: Literal["sms", "call"] | None = None,
) -> None:
    """Enqueue `PageOutcomeReported` for a specialist's page; alerts report nothing."""
    event = outcome_event(page, outcome=outcome, at=at, detail=detail, channel=channel)
    if event is not None:
        await report_outcomes(session, topics, [event])
