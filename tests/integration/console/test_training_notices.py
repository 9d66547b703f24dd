"""The roster's clockwork against the real PostgreSQL (issue 14): coordinators are told once,
a month before someone's training lapses (kcmo: quarterly trainings, 830 §IV.E.3.f); a new
attendance moves the lapse and earns a new notice; a lapsed member is not paged; kck's rule
(training once, FOP #4 §E.1.e) never lapses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.console.roster_loop import roster_pass
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage
from shared.policy import load_registry
from shared.roster.actor import Actor
from shared.roster.models import RosterEntry
from shared.roster.training_records import Mark, record_session
from tests.harness.roster_ready import load_ready_roster

REGISTRY = load_registry()
MANAGER = Actor(role="manager", name="Manager One", via="console")


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


def specialist(member_id: str, agency: str, **changes: Any) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "name": f"Specialist {member_id}",
        "agency": agency,
        "phone": "+1816555" + member_id[-4:],
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
    } | changes


async def _alerts(sessions: SessionFactory) -> list[dict[str, Any]]:
    async with unit_of_work(sessions) as session:
        return [
            row.payload
            for row in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if row.payload["event_type"] == "coordinator.alert"
        ]


async def _valid_until(sessions: SessionFactory, member_id: str) -> datetime | None:
    async with unit_of_work(sessions) as session:
        return await session.scalar(
            select(RosterEntry.training_valid_until).where(RosterEntry.member_id == member_id)
        )


async def test_coordinators_hear_once_a_month_before_a_lapse_and_again_after_new_training(
    sessions: SessionFactory, topics: Topics, clock: ManualClock
) -> None:
    async with unit_of_work(sessions) as session:  # trained on 2026-11-20, Chicago time
        await load_ready_roster(
            session,
            agency="kcmo",
            entries=[
                specialist("K0001", "kcmo"),
                specialist("K0002", "kcmo", training_current=False),
            ],
            now=clock.now(),
            topics=topics,
        )
        await load_ready_roster(
            session,
            agency="kck",
            entries=[specialist("F0001", "kck")],
            now=clock.now(),
            topics=topics,
        )
        await session.commit()
    # Q4 2026 attended: current through Q1 2027, lapsing at midnight 1 April in Chicago
    assert await _valid_until(sessions, "K0001") == datetime(2027, 4, 1, 5, 0, tzinfo=UTC)
    assert await _valid_until(sessions, "K0002") is None

    assert await roster_pass(sessions, REGISTRY, topics, clock) == {"kck": [], "kcmo": []}
    clock.set(datetime(2027, 3, 1, 5, 0, tzinfo=UTC))  # 31 days before: not yet
    assert (await roster_pass(sessions, REGISTRY, topics, clock))["kcmo"] == []
    clock.set(datetime(2027, 3, 3, 15, 0, tzinfo=UTC))
    assert (await roster_pass(sessions, REGISTRY, topics, clock))["kcmo"] == ["K0001"]
    assert (await roster_pass(sessions, REGISTRY, topics, clock))["kcmo"] == []  # once
    [alert] = await _alerts(sessions)
    assert alert["reason"] == "training_lapsing" and alert["member_id"] == "K0001"
    assert alert["message"].startswith(
        "Specialist K0001's training is current through Wed 31 Mar (830 §IV.E.3.f)"
    )

    async with unit_of_work(sessions) as session:
        await record_session(
            session,
            REGISTRY.get("kcmo"),
            held_on=date(2027, 3, 3),
            title="Q1 quarterly training",
            topics=["critical incident stress"],
            marks=[Mark("K0001", "attended")],
            actor=MANAGER,
            now=clock.now(),
        )
        await session.commit()
    assert await _valid_until(sessions, "K0001") == datetime(2027, 7, 1, 5, 0, tzinfo=UTC)
    clock.set(datetime(2027, 6, 10, 5, 0, tzinfo=UTC))
    assert (await roster_pass(sessions, REGISTRY, topics, clock))["kcmo"] == ["K0001"]
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))  # kck: trained once, never lapsing
    assert (await roster_pass(sessions, REGISTRY, topics, clock))["kck"] == []
    assert len(await _alerts(sessions)) == 2


async def test_an_excused_absence_counts_only_under_the_quarterly_rule(
    sessions: SessionFactory, topics: Topics, clock: ManualClock
) -> None:
    async with unit_of_work(sessions) as session:
        for agency, member in (("kcmo", "K0009"), ("kck", "F0009")):
            await load_ready_roster(
                session,
                agency=agency,
                entries=[specialist(member, agency, training_current=False)],
                now=clock.now(),
                topics=topics,
            )
            await record_session(
                session,
                REGISTRY.get(agency),
                held_on=date(2026, 11, 10),
                title="Training",
                topics=[],
                marks=[Mark(member, "excused", "memo 2026-31")],
                actor=MANAGER,
                now=clock.now(),
            )
        await session.commit()
    assert await _valid_until(sessions, "K0009") == datetime(2027, 4, 1, 5, 0, tzinfo=UTC)
    assert await _valid_until(sessions, "F0009") is None  # kck: the training itself is needed
