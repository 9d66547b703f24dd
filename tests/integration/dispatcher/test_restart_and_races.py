"""Escalation survives a restart, and two dispatchers never page more than N for an incident
nor one specialist twice: the database enforces both, with or without the code's lock."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher import incident_handlers, outcome_handler, timer_loop
from shared.activation_records import OPEN_STATE_NAMES, ActivationDecision, Assignment
from shared.clock import ManualClock
from shared.db.unit_of_work import unit_of_work
from shared.policy import AgencyRegistry
from shared.settings import Settings
from tests.integration.dispatcher.conftest import Harness, report, roster_entry


@pytest.fixture
async def two(
    settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two dispatcher 'processes' on the same database, each with its own connection pool."""
    a = Harness.start(settings, clock, registry)
    b = Harness.start(settings, clock, registry)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_a_restart_mid_escalation_resumes_on_time_and_fires_once(
    settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> None:
    first = Harness.start(settings, clock, registry)
    await first.roster(roster_entry("M1"), roster_entry("M2"), roster_entry("M3"))
    incident = await first.report()
    clock.advance(60)
    assert await first.timers.fire_due() == 0
    await first.close()  # the process stops: its loops and their memory are gone

    clock.advance(100)  # the SMS timeouts fall due while no dispatcher runs
    second = Harness.start(settings, clock, registry)
    stale = Harness.start(settings, clock, registry)  # e.g. a second process of the group
    try:
        fired = await asyncio.gather(second.timers.fire_due(), stale.timers.fire_due())
        assert sum(fired) == 2
        assert await second.pages(incident, "call") == ["M1", "M2"]
        assert await second.timers.fire_due() == 0
        assert await stale.timers.fire_due() == 0

        # the call timeout runs from the call, not from the restart or the page
        assert await second.advance_and_fire(179) == 0
        assert await second.advance_and_fire(1) == 2
        assert await second.states(incident) == {
            "M1": "timed_out",
            "M2": "timed_out",
            "M3": "paged",
        }
        assert await second.pages(incident) == ["M1", "M2", "M3"]
        assert await second.pages(incident, "call") == ["M1", "M2"]
        assert len(await second.outbox("page.withdrawn")) == 2
    finally:
        await second.close()
        await stale.close()


async def test_the_database_refuses_a_third_open_place_and_a_member_twice(
    harness: Harness,
) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"), roster_entry("M3"))
    incident = await harness.report()
    now = harness.clock.now()

    def row(member_id: str, *, slot: int, cap: int = 2, state: str = "paged") -> Assignment:
        return Assignment(
            id=uuid.uuid4(), incident_id=incident, agency="kcmo", member_id=member_id,
            phone="+18165550000", state=state, slot=slot, slot_cap=cap,
            overtime_eligible=True, remind_supervisor=False, created_at=now,
            state_changed_at=now,
        )  # fmt: skip

    refused = [
        row("M3", slot=1),  # a place another open assignment holds
        row("M3", slot=3),  # a place beyond the incident's cap
        row("M1", slot=3, cap=3, state="declined"),  # the same specialist twice
    ]
    for assignment in refused:
        async with unit_of_work(harness.sessions) as session:
            session.add(assignment)
            with pytest.raises(IntegrityError):
                await session.commit()
    async with unit_of_work(harness.sessions) as session:
        session.add(row("M3", slot=1, state="declined"))  # a closed one holds no place
        await session.commit()
    assert len(await harness.assignments(incident)) == 3


async def _plain_select(session: AsyncSession, incident_id: uuid.UUID) -> ActivationDecision | None:
    """The decision without the lock: leaves the promises to the database alone."""
    return await session.get(ActivationDecision, incident_id)


@pytest.mark.parametrize("with_the_lock", [True, False], ids=["locked", "constraints-only"])
async def test_two_dispatchers_racing_on_the_same_incidents(
    two: tuple[Harness, Harness], with_the_lock: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not with_the_lock:
        for module in (incident_handlers, outcome_handler, timer_loop):
            monkeypatch.setattr(module, "lock_decision", _plain_select)
    a, b = two
    await a.roster(*(roster_entry(f"M{i}") for i in range(1, 7)))
    incidents = [uuid.uuid4() for _ in range(6)]

    # both get every report at once (a redelivery under a new event id, as after a relay crash)
    await asyncio.gather(
        *(a.dispatcher.handle(a.reported(i, report())) for i in incidents),
        *(b.dispatcher.handle(b.reported(i, report())) for i in incidents),
    )
    # both take answers for the same incidents at once: one declines on each, the same
    # decline reaches both, and the other's SMS timer comes due in both timer loops
    events = []
    for incident in incidents:
        first, second = await a.assignments(incident)
        decline = a.outcome_event(first, "declined")
        events += [a.dispatcher.handle(decline), b.dispatcher.handle(decline)]
        events.append(b.dispatcher.handle(b.outcome_event(second, "declined")))
    a.clock.advance(120)
    await asyncio.gather(*events, a.timers.fire_due(), b.timers.fire_due())
    a.clock.advance(180)
    await asyncio.gather(a.timers.fire_due(), b.timers.fire_due())

    async with unit_of_work(a.sessions) as session:
        open_per_incident = dict(
            (
                await session.execute(
                    select(Assignment.incident_id, func.count())
                    .where(Assignment.state.in_(OPEN_STATE_NAMES))
                    .group_by(Assignment.incident_id)
                )
            ).all()
        )
    pages = Counter(
        (p["incident_id"], p["member_id"], p["channel"]) for p in await a.outbox("page.requested")
    )
    for incident in incidents:
        assignments = await a.assignments(incident)
        members = [x.member_id for x in assignments]
        assert len(members) == len(set(members)), "one specialist at most once per incident"
        assert open_per_incident.get(incident, 0) <= 2, "never more than N open"
        assert open_per_incident.get(incident, 0) == 2, "and the places are filled again"
        for member in members:
            assert pages[(str(incident), member, "sms")] == 1, "one SMS per assignment"
            assert pages[(str(incident), member, "call")] <= 1
    assert max(pages.values()) == 1
