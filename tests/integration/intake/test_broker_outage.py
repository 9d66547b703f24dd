"""With Kafka down, reports are still accepted (they wait in the outbox) and are published by
the running relay, on its own, once the broker is back."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from services.intake.app import create_app
from services.intake.credentials import issue_token
from shared.clock import ManualClock
from shared.db.unit_of_work import unit_of_work
from shared.events import IncidentReported, parse_event
from shared.kafka.clients import build_consumer
from shared.outbox.models import SENT, OutboxMessage
from shared.policy import Role
from shared.settings import Settings
from tests.harness.servers import SessionServers
from tests.harness.waiting import eventually
from tests.integration.intake.reports import kcmo_death


async def test_reports_accepted_while_kafka_is_down_are_published_after_it_returns(
    settings: Settings, clock: ManualClock, servers: SessionServers
) -> None:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        sessions = app.state.runtime.sessions
        async with unit_of_work(sessions) as session:
            token = await issue_token(
                session,
                agency="kcmo",
                role=Role.COMMANDER,
                name="commander",
                phone=None,
                now=clock.now(),
            )
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            servers.kafka.stop()
            try:
                answer = await client.post(
                    "/v1/incidents",
                    json=kcmo_death("KC-OUTAGE-1"),
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 202
                async with unit_of_work(sessions) as session:
                    statuses = (await session.scalars(select(OutboxMessage.status))).all()
                assert statuses == ["pending"]
            finally:
                servers.kafka.start()

            async def published() -> bool:
                async with unit_of_work(sessions) as session:
                    return (await session.scalars(select(OutboxMessage.status))).all() == [SENT]

            await eventually(published, timeout_s=60, what="the outbox published after the outage")

    consumer = build_consumer(
        servers.kafka.bootstrap, group_id=f"g{uuid.uuid4().hex}", client_id="test"
    )
    consumer.subscribe([f"{settings.kafka_topic_prefix}incidents"])
    await consumer.start()
    try:
        batches = await eventually(
            lambda: consumer.getmany(timeout_ms=500), timeout_s=30, what="the event on the topic"
        )
    finally:
        await consumer.stop()
    # at least once: a publish whose acknowledgement timed out while the broker came back is
    # sent again by a new producer, and consumers absorb the copy by its event id
    events = [parse_event(r.value) for records in batches.values() for r in records]
    assert events and len({event.event_id for event in events}) == 1
    event = events[0]
    assert isinstance(event, IncidentReported)
    assert str(event.incident_id) == answer.json()["incident_id"]
