"""A dispatcher on the test's own database, driven by calling its handlers and its timer loop
directly with events and a moved clock; plus helpers to set up rosters and read the results."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.dispatcher.context import DispatcherContext
from services.dispatcher.handlers import Dispatcher
from services.dispatcher.timer_loop import TimerLoop
from shared.activation_records import ActivationDecision, Assignment, CoordinatorAlert
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    ApprovalRecorded,
    IncidentReported,
    PageOutcome,
    PageOutcomeReported,
    Reporter,
)
from shared.outbox.models import OutboxMessage
from shared.policy import AgencyRegistry, load_registry
from shared.settings import Settings
from tests.harness.roster_ready import add_ready_entries

OCCURRED_AT = "2026-11-20T22:14:00-06:00"


@pytest.fixture(scope="session")
def registry() -> AgencyRegistry:
    return load_registry()


def report(agency: str = "kcmo", **changes: Any) -> dict[str, Any]:
    """A report that activates in either agency: a member died on duty."""
    base: dict[str, Any] = {
        "agency": agency,
        "occurred_at": OCCURRED_AT,
        "event": "line_of_duty_death",
        "summary": "Officer Victim Name was killed at the scene",
        "location": {"lat": 39.0997, "lon": -94.5786, "address": "1125 Locust St"},
        "persons": [{"kind": "member", "member_id": "VICTIM", "outcome": "death"}],
    }
    base.update(changes)
    return base


def roster_entry(member_id: str, agency: str = "kcmo", **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "agency": agency,
        "member_id": member_id,
        "name": f"Name of {member_id}",
        "phone": f"+1816555{zlib.crc32(member_id.encode()) % 10000:04d}",
        "status": "active",
        "on_duty": False,
        "on_call": False,
        "training_current": True,
        "under_investigation": False,
        "languages": [],
    }
    entry.update(changes)
    return entry


@dataclass
class Harness:
    """One dispatcher 'process': its engine, handlers and timer loop."""

    engine: AsyncEngine
    sessions: SessionFactory
    clock: ManualClock
    settings: Settings
    registry: AgencyRegistry
    ctx: DispatcherContext
    dispatcher: Dispatcher
    timers: TimerLoop

    @classmethod
    def start(cls, settings: Settings, clock: ManualClock, registry: AgencyRegistry) -> Harness:
        engine = build_engine(settings.require_database_url(), pool_size=5)
        sessions = build_session_factory(engine)
        ctx = DispatcherContext.build(
            settings=settings, sessions=sessions, clock=clock, registry=registry
        )
        return cls(
            engine=engine,
            sessions=sessions,
            clock=clock,
            settings=settings,
            registry=registry,
            ctx=ctx,
            dispatcher=Dispatcher(ctx),
            timers=TimerLoop(ctx),
        )

    async def close(self) -> None:
        await self.engine.dispose()

    # events in

    def reported(
        self, incident_id: uuid.UUID, report_body: dict[str, Any], *, revision: int = 1
    ) -> IncidentReported:
        return IncidentReported(
            occurred_at=self.clock.now(),
            incident_id=incident_id,
            agency=str(report_body["agency"]),
            revision=revision,
            report=report_body,
            reporter=Reporter(via="api", role="commander", name="Commander One"),
        )

    async def report(
        self,
        report_body: dict[str, Any] | None = None,
        *,
        incident_id: uuid.UUID | None = None,
        revision: int = 1,
    ) -> uuid.UUID:
        incident = incident_id or uuid.uuid4()
        await self.dispatcher.handle(
            self.reported(incident, report_body or report(), revision=revision)
        )
        return incident

    def outcome_event(
        self, assignment: Assignment, outcome: PageOutcome, channel: str = "sms"
    ) -> PageOutcomeReported:
        return PageOutcomeReported(
            occurred_at=self.clock.now(),
            assignment_id=assignment.id,
            incident_id=assignment.incident_id,
            channel="call" if channel == "call" else "sms",
            outcome=outcome,
        )

    async def outcome(
        self, assignment: Assignment, outcome: PageOutcome, channel: str = "sms"
    ) -> None:
        await self.dispatcher.handle(self.outcome_event(assignment, outcome, channel))

    async def approve(self, incident_id: uuid.UUID, member_id: str, agency: str = "kck") -> None:
        await self.dispatcher.handle(
            ApprovalRecorded(
                occurred_at=self.clock.now(),
                incident_id=incident_id,
                agency=agency,
                member_id=member_id,
                recorded_by="Coordinator One",
            )
        )

    async def advance_and_fire(self, seconds: float) -> int:
        self.clock.advance(seconds)
        return await self.timers.fire_due()

    # setup

    async def roster(self, *entries: dict[str, Any]) -> None:
        """Add these entries to their agencies' rosters, pageable as they say: phones
        confirmed, training credited today unless `training_current` is False."""
        async with unit_of_work(self.sessions) as session:
            for agency in sorted({str(entry["agency"]) for entry in entries}):
                await add_ready_entries(
                    session,
                    agency=agency,
                    entries=[entry for entry in entries if entry["agency"] == agency],
                    now=self.clock.now(),
                    registry=self.registry,
                )
            await session.commit()

    async def past_acceptance(
        self, member_id: str, *, at: datetime, agency: str = "kcmo", still_activates: bool = True
    ) -> None:
        """`member_id` accepted a page for another incident at `at`."""
        incident = uuid.uuid4()
        async with unit_of_work(self.sessions) as session:
            session.add(
                ActivationDecision(
                    incident_id=incident,
                    agency=agency,
                    revision=1,
                    status="activate" if still_activates else "not_covered",
                    activate=still_activates,
                    criteria=[],
                    specialists=2,
                    reasons=[],
                    decision={},
                    decided_at=at,
                    reporter_role="commander",
                    page_facts={},
                    involved_member_ids=[],
                )
            )
            await session.flush()
            session.add(
                Assignment(
                    id=uuid.uuid4(),
                    incident_id=incident,
                    agency=agency,
                    member_id=member_id,
                    phone="+18165550000",
                    state="accepted",
                    slot=1,
                    slot_cap=2,
                    overtime_eligible=True,
                    remind_supervisor=False,
                    created_at=at,
                    paged_at=at,
                    responded_at=at,
                    state_changed_at=at,
                )
            )
            await session.commit()

    # results out

    async def assignments(self, incident_id: uuid.UUID) -> list[Assignment]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(
                select(Assignment)
                .where(Assignment.incident_id == incident_id)
                .order_by(Assignment.created_at, Assignment.slot)
            )
            found = list(rows.all())
            session.expunge_all()
            return found

    async def assignment(self, incident_id: uuid.UUID, member_id: str) -> Assignment:
        (found,) = [a for a in await self.assignments(incident_id) if a.member_id == member_id]
        return found

    async def states(self, incident_id: uuid.UUID) -> dict[str, str]:
        return {a.member_id: a.state for a in await self.assignments(incident_id)}

    async def decision(self, incident_id: uuid.UUID) -> ActivationDecision | None:
        async with unit_of_work(self.sessions) as session:
            found = await session.get(ActivationDecision, incident_id)
            session.expunge_all()
            return found

    async def outbox(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        """Payloads of the outbox rows of this type whose fields equal `match`, oldest first."""
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(OutboxMessage.id)
            )
            payloads = [row.payload for row in rows]
        return [p for p in payloads if all(p.get(k) == v for k, v in match.items())]

    async def pages(self, incident_id: uuid.UUID, channel: str = "sms") -> list[str]:
        """Members a page of this channel was requested for, in order."""
        rows = await self.outbox("page.requested", incident_id=str(incident_id), channel=channel)
        return [row["member_id"] for row in rows]

    async def alerts(self, reason: str | None = None) -> list[CoordinatorAlert]:
        async with unit_of_work(self.sessions) as session:
            statement = select(CoordinatorAlert).order_by(CoordinatorAlert.created_at)
            if reason is not None:
                statement = statement.where(CoordinatorAlert.reason == reason)
            alerts = list((await session.scalars(statement)).all())
            session.expunge_all()
            return alerts


@pytest.fixture
async def harness(
    settings: Settings, clock: ManualClock, registry: AgencyRegistry
) -> AsyncIterator[Harness]:
    started = Harness.start(settings, clock, registry)
    try:
        yield started
    finally:
        await started.close()


def after(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
