"""The dispatcher app end to end over the real broker: a report published through the outbox is
consumed, paged, answered, escalated by the running timer loop, resumed after a restart; an
event that cannot be handled is dead-lettered and the coordinators are told."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.dispatcher.app import create_app
from shared.clock import ManualClock
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import DeadLetter
from shared.events import Event, IncidentReported, Reporter
from shared.outbox.enqueue import enqueue
from shared.outbox.models import SENT, OutboxMessage
from shared.policy import AgencyRegistry
from shared.settings import Settings
from tests.harness.waiting import eventually
from tests.integration.dispatcher.conftest import Harness, report, roster_entry


async def publish(harness: Harness, *events: Event) -> None:
    """Write events to the outbox, as intake and the notifier do; the app's relay sends them."""
    async with unit_of_work(harness.sessions) as session:
        await enqueue(session, harness.ctx.topics, *events)
        await session.commit()


async def test_the_running_dispatcher_pages_escalates_and_resumes_after_a_restart(
    harness: Harness, settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"), roster_entry("M3"))
    incident = uuid.uuid4()
    app = create_app(settings, clock=clock, registry=registry)
    async with app.router.lifespan_context(app):
        await publish(harness, harness.reported(incident, report()))

        async def paged(channel: str, expected: list[str]) -> bool:
            return await harness.pages(incident, channel) == expected

        await eventually(lambda: paged("sms", ["M1", "M2"]), what="the first two paged")

        async def all_published() -> bool:
            async with unit_of_work(harness.sessions) as session:
                statuses = (await session.scalars(select(OutboxMessage.status))).all()
            return all(status == SENT for status in statuses)

        await eventually(all_published, what="the page commands published to Kafka")

        m1 = await harness.assignment(incident, "M1")
        await publish(harness, harness.outcome_event(m1, "declined"))
        await eventually(lambda: paged("sms", ["M1", "M2", "M3"]), what="M3 paged after M1")

        clock.advance(120)  # the running timer loop sees the moved clock
        await eventually(lambda: paged("call", ["M2", "M3"]), what="calls after the SMS timeout")

        unusable = IncidentReported(
            occurred_at=clock.now(),
            incident_id=uuid.uuid4(),
            agency="kcmo",
            revision=1,
            report={"agency": "kcmo", "event": "not-an-event"},
            reporter=Reporter(via="cad", role="cad", name="CAD"),
        )
        await publish(harness, unusable)

        async def dead_lettered() -> bool:
            async with unit_of_work(harness.sessions) as session:
                letters = (await session.scalars(select(DeadLetter.consumer))).all()
            return letters == ["dispatcher"]

        await eventually(dead_lettered, what="the unusable report dead-lettered")
        (alert,) = await harness.alerts("unusable_report")
        assert alert.incident_id == unusable.incident_id

    # stopped mid-escalation: the call timeouts fall due while it is down
    clock.advance(180)
    restarted = create_app(settings, clock=clock, registry=registry)
    async with restarted.router.lifespan_context(restarted):

        async def timed_out() -> bool:
            states = await harness.states(incident)
            return states == {"M1": "declined", "M2": "timed_out", "M3": "timed_out"}

        await eventually(timed_out, what="the calls timed out after the restart")
        await eventually(lambda: harness.alerts("nobody_left"), what="nobody left: coordinators")

    assert await harness.pages(incident) == ["M1", "M2", "M3"], "nothing paged twice"
    assert await harness.pages(incident, "call") == ["M2", "M3"]
    assert len(await harness.outbox("page.withdrawn")) == 2
