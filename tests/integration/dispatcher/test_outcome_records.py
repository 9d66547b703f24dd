"""Every outcome is recorded once, including the ones that change nothing (claimed and recorded
in one autocommitted statement); an outcome for an assignment the dispatcher never made is
dead-lettered and leaves nothing behind."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.dispatcher.context import DispatcherContext
from services.dispatcher.handlers import Dispatcher
from services.dispatcher.models import PageOutcomeRecord
from shared.clock import ManualClock
from shared.db.engine import build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import PageOutcome, PageOutcomeReported
from shared.kafka.consumer_runner import PermanentEventError
from shared.policy import AgencyRegistry
from shared.processed_events import ProcessedEvent
from shared.roster.models import RosterEntry
from shared.settings import Settings
from tests.harness.roster_ready import add_ready_entries
from tests.integration.dispatcher.conftest import Harness, roster_entry


async def recorded(harness: Harness, event_id: uuid.UUID) -> int:
    async with unit_of_work(harness.sessions) as session:
        return int(
            (
                await session.execute(
                    select(func.count()).where(PageOutcomeRecord.event_id == event_id)
                )
            ).scalar_one()
        )


async def claimed(harness: Harness, event_id: uuid.UUID) -> bool:
    async with unit_of_work(harness.sessions) as session:
        found = await session.get(ProcessedEvent, ("dispatcher", str(event_id)))
        return found is not None


async def test_a_redelivered_sent_is_recorded_once(harness: Harness) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))
    incident = await harness.report()
    sent = harness.outcome_event(await harness.assignment(incident, "M1"), "sent")

    await harness.dispatcher.handle(sent)
    await harness.dispatcher.handle(sent)

    assert await recorded(harness, sent.event_id) == 1
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}


@pytest.mark.parametrize("outcome", ["sent", "declined"])
@pytest.mark.parametrize("whose", ["never made", "another incident's"])
async def test_an_outcome_for_an_assignment_never_made_is_dead_lettered(
    harness: Harness, outcome: PageOutcome, whose: str
) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))
    incident = await harness.report()
    other = await harness.assignment(await harness.report(), "M1")
    event = PageOutcomeReported(
        occurred_at=harness.clock.now(),
        assignment_id=uuid.uuid4() if whose == "never made" else other.id,
        incident_id=incident,
        channel="sms",
        outcome=outcome,
    )

    with pytest.raises(PermanentEventError, match="unknown assignment"):
        await harness.dispatcher.handle(event)

    assert await recorded(harness, event.event_id) == 0
    assert not await claimed(harness, event.event_id), "rolled back with the rest"
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}


async def test_after_an_autocommitted_sent_the_connection_is_transactional_again(
    harness: Harness, settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))
    incident = await harness.report()
    sent = harness.outcome_event(await harness.assignment(incident, "M1"), "sent")

    # one connection, so that the work after the "sent" surely runs on the same one
    engine = create_async_engine(settings.require_database_url(), pool_size=1, max_overflow=0)
    try:
        sessions = build_session_factory(engine)
        ctx = DispatcherContext.build(
            settings=settings, sessions=sessions, clock=clock, registry=registry
        )
        await Dispatcher(ctx).handle(sent)
        assert await recorded(harness, sent.event_id) == 1

        async with unit_of_work(sessions) as session:
            await add_ready_entries(  # flushes its rows
                session, agency="kcmo", entries=[roster_entry("LATE")], now=clock.now()
            )
            # no commit: the unit of work rolls it back
        async with unit_of_work(sessions) as session:
            assert await session.get(RosterEntry, ("kcmo", "LATE")) is None
    finally:
        await engine.dispose()
