"""The console's read model against the real PostgreSQL: events of one incident arrive on four
topics in any order and any number of times, and the board shows the true state."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.console.projection_consumer import ProjectionHandler
from services.console.read_model import alerts, incident, open_incidents, timeline
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    ActivationClosed,
    ActivationDecided,
    AnyEvent,
    AssignmentChanged,
    CoordinatorAlertRaised,
    IncidentReported,
    PageFacts,
    PageOutcomeReported,
    Reporter,
)

T0 = datetime(2026, 11, 21, 4, 20, tzinfo=UTC)
FACTS = PageFacts(
    agency="kcmo",
    occurred_at=datetime(2026, 11, 21, 4, 14, tzinfo=UTC),
    time_zone="America/Chicago",
    event="line_of_duty_death",
    address="1125 Locust St",
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


def _life_of_an_incident(incident_id: uuid.UUID) -> list[AnyEvent]:
    a, b = uuid.uuid4(), uuid.uuid4()

    def at(seconds: int) -> datetime:
        return T0 + timedelta(seconds=seconds)

    def moved(assignment: uuid.UUID, member: str, state: str, seconds: int) -> AnyEvent:
        return AssignmentChanged(
            occurred_at=at(seconds),
            assignment_id=assignment,
            incident_id=incident_id,
            agency="kcmo",
            member_id=member,
            state=state,
            next_step_at=at(seconds + 120) if state in ("paged", "calling") else None,
        )

    report = {"agency": "kcmo", "event": "line_of_duty_death", "persons": []}
    return [
        IncidentReported(
            occurred_at=at(0),
            incident_id=incident_id,
            agency="kcmo",
            revision=1,
            report=report,
            reporter=Reporter(via="cad", role="cad", name="CAD system (kcmo)"),
        ),
        ActivationDecided(
            occurred_at=at(1),
            incident_id=incident_id,
            agency="kcmo",
            revision=1,
            status="activate",
            activate=True,
            criteria=["III.E.1"],
            specialists=2,
            reasons=["830 §III.E.1 applies"],
            facts=FACTS,
        ),
        moved(a, "A", "paged", 1),
        moved(b, "B", "paged", 1),
        PageOutcomeReported(
            occurred_at=at(2),
            assignment_id=a,
            incident_id=incident_id,
            channel="sms",
            outcome="delivered",
        ),
        moved(a, "A", "accepted", 30),
        moved(b, "B", "calling", 121),
        moved(b, "B", "timed_out", 301),
        CoordinatorAlertRaised(
            occurred_at=at(302),
            alert_id=uuid.uuid4(),
            agency="kcmo",
            incident_id=incident_id,
            reason="nobody_left",
            message="No eligible specialist is left to page for 1 of the 2 places.",
        ),
    ]


async def _project(sessions: SessionFactory, events: list[AnyEvent]) -> None:
    handler = ProjectionHandler(sessions)
    for event in events:
        await handler(event)


async def test_any_order_and_redelivery_give_the_same_board(sessions: SessionFactory) -> None:
    incident_id = uuid.uuid4()
    events = _life_of_an_incident(incident_id)
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    await _project(sessions, shuffled)
    await _project(sessions, events)  # every event again: nothing changes

    async with unit_of_work(sessions) as session:
        board = await open_incidents(session, "kcmo")
        lines = await timeline(session, incident_id)
        inbox = await alerts(session, "kcmo")
        other = await open_incidents(session, "kck")
    (shown,) = board
    assert shown.status == "activate" and shown.criteria == ["III.E.1"]
    assert shown.accepted == 1 and shown.specialists == 2
    assert {a.member_id: a.state for a in shown.assignments} == {"A": "accepted", "B": "timed_out"}
    assert next(a for a in shown.assignments if a.member_id == "A").delivery == "delivered"
    assert len(lines) == len(events), "one line per event, however often it came"
    assert [line.at for line in lines] == sorted(line.at for line in lines)
    assert len(inbox) == 1 and inbox[0].acknowledged_at is None
    assert other == [], "another agency's board shows none of it"


async def test_a_late_event_never_moves_an_assignment_back(sessions: SessionFactory) -> None:
    for order in itertools.islice(itertools.permutations(range(3)), 6):
        incident_id = uuid.uuid4()
        events = _life_of_an_incident(incident_id)
        paged, accepted = events[2], events[5]
        decided = events[1]
        await _project(sessions, [[decided, accepted, paged][i] for i in order])
        async with unit_of_work(sessions) as session:
            shown = await incident(session, "kcmo", incident_id)
        assert shown is not None
        assert {a.member_id: a.state for a in shown.assignments} == {"A": "accepted"}


async def test_a_closed_incident_leaves_the_board(sessions: SessionFactory) -> None:
    incident_id = uuid.uuid4()
    events = _life_of_an_incident(incident_id)
    closed = ActivationClosed(
        occurred_at=T0 + timedelta(minutes=10),
        incident_id=incident_id,
        agency="kcmo",
        reason="stood_down",
        closed_by="Coordinator One",
    )
    await _project(sessions, [closed, *events])
    async with unit_of_work(sessions) as session:
        assert await open_incidents(session, "kcmo") == []
        shown = await incident(session, "kcmo", incident_id)
        assert await incident(session, "kck", incident_id) is None
    assert shown is not None and shown.closed_by == "Coordinator One"
