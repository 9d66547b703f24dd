"""Reporting what became of a page to the dispatcher, through the outbox.

The outbox rows are written by one prebuilt Core INSERT fed with one array per column, so any
number of outcomes is one statement (and one prepared statement), which the sender also folds
into the statement that records its pages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from sqlalchemy import ARRAY, Table, Text, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.metrics import OUTCOMES
from services.notifier.page_states import PageKind
from shared.events import PageOutcome, PageOutcomeReported
from shared.kafka.topics import Topics
from shared.outbox.enqueue import flag_outbox_written, outbox_row
from shared.outbox.models import OutboxMessage

OUTBOX = cast(Table, OutboxMessage.__table__)
_OUTCOMES = (
    func.unnest(
        bindparam("outcome_topic", type_=ARRAY(Text)),
        bindparam("outcome_key", type_=ARRAY(Text)),
        bindparam("outcome_type", type_=ARRAY(Text)),
        bindparam("outcome_payload", type_=ARRAY(Text)),
    )
    .table_valued("topic", "key", "event_type", "payload")
    .render_derived(name="outcome")
)
OUTBOX_ROWS = insert(OUTBOX).from_select(
    ["topic", "key", "event_type", "payload"],
    select(
        _OUTCOMES.c.topic,
        _OUTCOMES.c.key,
        _OUTCOMES.c.event_type,
        sql_cast(_OUTCOMES.c.payload, JSONB),
    ),
)
"""The outbox rows of `outbox_params`: the notifier's outcomes, written without the ORM."""


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


def outbox_params(topics: Topics, events: Sequence[PageOutcomeReported]) -> dict[str, Any]:
    """`OUTBOX_ROWS`'s parameters for the events."""
    rows = [outbox_row(topics, event) for event in events]
    return {
        "outcome_topic": [row["topic"] for row in rows],
        "outcome_key": [row["key"] for row in rows],
        "outcome_type": [row["event_type"] for row in rows],
        "outcome_payload": [json.dumps(row["payload"]) for row in rows],
    }


def count_reported(events: Sequence[PageOutcomeReported]) -> None:
    for event in events:
        OUTCOMES.labels(event.channel, event.outcome).inc()


async def report_outcomes(
    session: AsyncSession, topics: Topics, events: Sequence[PageOutcomeReported]
) -> None:
    """Enqueue the events in the caller's transaction; its commit wakes the relay."""
    if not events:
        return
    await session.execute(OUTBOX_ROWS, outbox_params(topics, events))
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
