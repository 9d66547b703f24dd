"""A burst's events handled as a batch (`Dispatcher.handle_batch`) leave exactly the rows that
handling them one at a time leaves; a redelivered batch changes nothing; a batch with an event
that cannot be handled raises, not as a transient failure (so the runner handles its events
one at a time), and leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from services.dispatcher.incident_handlers import UnusableReport
from services.dispatcher.outcome_handler import UnknownAssignment
from services.dispatcher.tables import (
    ALERTS,
    ASSIGNMENTS,
    DECISIONS,
    PAGE_OUTCOMES,
    TIMERS,
)
from shared.clock import ManualClock
from shared.db.unit_of_work import unit_of_work
from shared.events import AnyEvent, IncidentReported, PageOutcome, PageOutcomeReported
from shared.outbox.rows import OUTBOX
from shared.policy import AgencyRegistry
from shared.processed_events import ProcessedEvent
from shared.settings import Settings
from shared.transient_failures import is_transient
from tests.harness.servers import SessionServers
from tests.integration.dispatcher.conftest import Harness, report, roster_entry

INCIDENTS = [uuid.UUID(int=n) for n in (1, 2, 3)]
"""The same incidents on both databases, so that their rows can be compared."""


@pytest.fixture
async def twin(
    servers: SessionServers, settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> AsyncIterator[Harness]:
    """A second dispatcher on a database of its own, with the same clock: the same events
    handled the other way."""
    name = await servers.fresh_database()
    own = settings.model_copy(update={"database_url": servers.postgres.url(name)})
    started = Harness.start(own, clock, registry)
    try:
        yield started
    finally:
        await started.close()
        await servers.drop_database(name)


async def on_the_roster(*harnesses: Harness) -> None:
    for harness in harnesses:
        await harness.roster(*(roster_entry(f"M{n:02d}", on_call=n % 3 == 0) for n in range(8)))


def burst_of_reports(harness: Harness) -> list[AnyEvent]:
    """Three new incidents, then a newer revision of the first asking for one more specialist:
    its staffing must see what the batch wrote for the first revision."""
    first, second, third = INCIDENTS
    return [
        _same_ids(harness.reported(first, report()), 1),
        _same_ids(harness.reported(second, report()), 2),
        _same_ids(harness.reported(third, report()), 3),
        _same_ids(harness.reported(first, report(additional_specialists=1), revision=2), 4),
    ]


async def burst_of_outcomes(harness: Harness, *, declined: str | None = None) -> list[AnyEvent]:
    """A "sent" for every page of the incidents, and a decline by `declined` (of the second
    incident) among them; event ids depend on incident, member and outcome only."""
    events: list[AnyEvent] = []
    for incident in INCIDENTS:
        for assignment in await harness.assignments(incident):
            member = assignment.member_id
            events.append(_outcome(harness, incident, assignment.id, "sent", member=member))
            if incident == INCIDENTS[1] and member == declined:
                events.append(_outcome(harness, incident, assignment.id, "declined", member=member))
    return events


def _same_ids(event: IncidentReported, n: int) -> IncidentReported:
    return event.model_copy(update={"event_id": uuid.UUID(int=1000 + n)})


def _outcome(
    harness: Harness,
    incident: uuid.UUID,
    assignment_id: uuid.UUID,
    outcome: PageOutcome,
    *,
    member: str = "",
) -> PageOutcomeReported:
    """The outcome's event id is drawn from its incident, `member` and outcome: the same on
    both databases, whose assignment ids differ."""
    return PageOutcomeReported(
        event_id=uuid.uuid5(uuid.NAMESPACE_OID, f"{incident}:{member}:{outcome}"),
        occurred_at=harness.clock.now(),
        assignment_id=assignment_id,
        incident_id=incident,
        channel="sms",
        outcome=outcome,
    )


async def rows(harness: Harness) -> dict[str, list[Any]]:
    """Every row the dispatcher writes, without the ids it draws at random (an assignment is
    known by its incident and member)."""
    member = ASSIGNMENTS.c.member_id
    by_assignment = ASSIGNMENTS.c.id
    async with unit_of_work(harness.sessions) as session:

        async def all_of(statement: Any) -> list[Any]:
            return [tuple(row) for row in (await session.execute(statement)).all()]

        outbox = [
            (topic, key, event_type, _without_drawn_ids(payload))
            for topic, key, event_type, payload in await all_of(
                select(OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.event_type, OUTBOX.c.payload)
                .where(OUTBOX.c.event_type != "coordinator.alert")
                .order_by(OUTBOX.c.id)
            )
        ]
        return {
            "decisions": await all_of(
                select(*(c for c in DECISIONS.c if c.name != "decided_at")).order_by(
                    DECISIONS.c.incident_id
                )
            ),
            "assignments": await all_of(
                select(*(c for c in ASSIGNMENTS.c if c is not by_assignment)).order_by(
                    ASSIGNMENTS.c.incident_id, member
                )
            ),
            "timers": await all_of(
                select(member, *(c for c in TIMERS.c if c.name not in {"id", "assignment_id"}))
                .join(ASSIGNMENTS, by_assignment == TIMERS.c.assignment_id)
                .order_by(TIMERS.c.incident_id, member, TIMERS.c.kind)
            ),
            "page commands": outbox,
            "page outcomes": await all_of(
                select(
                    member, *(c for c in PAGE_OUTCOMES.c if c.name not in {"id", "assignment_id"})
                )
                .join(ASSIGNMENTS, by_assignment == PAGE_OUTCOMES.c.assignment_id)
                .order_by(PAGE_OUTCOMES.c.event_id)
            ),
            "processed events": await all_of(
                select(ProcessedEvent.consumer, ProcessedEvent.event_id).order_by(
                    ProcessedEvent.event_id
                )
            ),
            "alerts": await all_of(
                select(ALERTS.c.reason, ALERTS.c.incident_id, ALERTS.c.message).order_by(
                    ALERTS.c.incident_id, ALERTS.c.message
                )
            ),
        }


def _without_drawn_ids(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in {"event_id", "assignment_id"}}


async def one_at_a_time(harness: Harness, events: list[AnyEvent]) -> None:
    for event in events:
        await harness.dispatcher.handle(event)


async def test_a_batch_leaves_the_rows_that_one_event_at_a_time_leaves(
    harness: Harness, twin: Harness
) -> None:
    await on_the_roster(harness, twin)

    await one_at_a_time(harness, burst_of_reports(harness))
    await twin.dispatcher.handle_batch(burst_of_reports(twin))
    assert await rows(twin) == await rows(harness)
    assert len(await twin.assignments(INCIDENTS[0])) == 3, "the second revision added one"

    declined = (await harness.assignments(INCIDENTS[1]))[0].member_id
    await one_at_a_time(harness, await burst_of_outcomes(harness, declined=declined))
    await twin.dispatcher.handle_batch(await burst_of_outcomes(twin, declined=declined))
    after = await rows(twin)
    assert after == await rows(harness)
    assert len(after["page outcomes"]) == 8, "seven sent, one declined"
    assert len(after["processed events"]) == 4 + 8
    assert await twin.states(INCIDENTS[1]) == {
        declined: "declined",
        **{
            a.member_id: "paged"
            for a in await twin.assignments(INCIDENTS[1])
            if a.member_id != declined
        },
    }
    assert len(await twin.assignments(INCIDENTS[1])) == 3, "the next one paged after the decline"


async def test_a_redelivered_batch_changes_nothing(harness: Harness) -> None:
    await on_the_roster(harness)
    reports = burst_of_reports(harness)
    await harness.dispatcher.handle_batch(reports)
    outcomes = await burst_of_outcomes(harness)
    await harness.dispatcher.handle_batch(outcomes)
    handled = await rows(harness)

    await harness.dispatcher.handle_batch(reports)
    await harness.dispatcher.handle_batch(outcomes)
    await harness.dispatcher.handle_batch([*outcomes, *outcomes])  # twice in one batch
    harness.clock.advance(1)  # a later `recorded_at` would show a second record
    await harness.dispatcher.handle_batch([*reports, *outcomes])

    assert await rows(harness) == handled


@pytest.mark.parametrize("outcome", ["sent", "declined"])
@pytest.mark.parametrize("whose", ["never made", "another incident's"])
async def test_a_batch_with_an_outcome_for_an_unknown_assignment_writes_nothing(
    harness: Harness, outcome: PageOutcome, whose: str
) -> None:
    await on_the_roster(harness)
    reports = burst_of_reports(harness)
    await harness.dispatcher.handle_batch(reports[:2])
    before = await rows(harness)
    first, second = (await harness.assignments(INCIDENTS[0]))[0], INCIDENTS[1]
    unknown_id = uuid.uuid4() if whose == "never made" else first.id
    batch = [
        reports[2],  # written first, then rolled back with the rest
        _outcome(harness, first.incident_id, first.id, "sent"),
        _outcome(harness, second, unknown_id, outcome),
        _outcome(harness, first.incident_id, first.id, "delivered"),
    ]

    with pytest.raises(UnknownAssignment, match="unknown assignment") as raised:
        await harness.dispatcher.handle_batch(batch)

    assert not is_transient(raised.value), "the runner must handle the run one at a time"
    assert await rows(harness) == before


async def test_a_batch_with_a_report_that_cannot_be_decided_on_writes_nothing(
    harness: Harness,
) -> None:
    await on_the_roster(harness)
    reports = burst_of_reports(harness)
    unusable = harness.reported(uuid.uuid4(), report(agency="nowhere"))
    before = await rows(harness)

    with pytest.raises(UnusableReport) as raised:
        await harness.dispatcher.handle_batch([reports[0], unusable, reports[1]])

    assert not is_transient(raised.value)
    assert await rows(harness) == before
    assert await harness.alerts() == [], "the one-at-a-time path alerts, once"
