"""A notifier on the test's own database and topics, served by a real uvicorn on a free port,
talking to the Twilio stand-in over real HTTP; time is a ManualClock the test moves.

Commands reach it as the dispatcher sends them: written to the outbox, published to Kafka by
the notifier's own outbox relay, consumed by its page-commands consumer. What it reports back
is read from the outbox (`PageOutcomeReported` rows).

Tests of the handlers' statements use an engine of their own (`engine`) and count what runs on
it (`statements`).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from pydantic import HttpUrl
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from pst.localstack.ports import free_port
from services.intake.models import ApiToken
from services.notifier.app import create_app
from services.notifier.models import NotifierPage
from services.notifier.sender import SenderTuning
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine
from shared.db.unit_of_work import unit_of_work
from shared.events import Event, PageFacts, PageOutcomeReported, PageRequested, PageWithdrawn
from shared.kafka.topics import Topics
from shared.outbox.enqueue import enqueue
from shared.outbox.models import OutboxMessage
from shared.settings import Settings
from tests.harness.roster_ready import add_ready_entries
from tests.harness.waiting import eventually
from tests.twilio_standin import RecordedRequest, TwilioStandIn

SERVICE_NUMBER = "+18165550100"
SPECIALIST_PHONE = "+18165550111"
OTHER_SPECIALIST_PHONE = "+18165550122"
STRANGER_PHONE = "+18165550999"
FAST = SenderTuning(per_number_interval_s=0.0, poll_interval_s=0.05, sweep_interval_s=0.2)

KCMO_FACTS = PageFacts(
    agency="kcmo",
    occurred_at=datetime(2026, 11, 21, 4, 14, tzinfo=UTC),
    time_zone="America/Chicago",
    event="officer_involved_shooting",
    lat=39.0997,
    lon=-94.5786,
    address="1200 Grand Blvd, Kansas City, MO",
)


@dataclass
class Notifier:
    """The running notifier and what the tests need around it."""

    url: str
    settings: Settings
    clock: ManualClock
    sessions: SessionFactory
    topics: Topics
    twilio: TwilioStandIn
    """The stand-in; without Twilio credentials the notifier never calls it, but it can still
    post (signed) webhooks."""

    # -- commands in ----------------------------------------------------------------------
    async def publish(self, *events: Event) -> None:
        async with unit_of_work(self.sessions) as session:
            await enqueue(session, self.topics, *events)
            await session.commit()

    def page_request(
        self,
        *,
        phone: str = SPECIALIST_PHONE,
        channel: str = "sms",
        assignment_id: uuid.UUID | None = None,
        incident_id: uuid.UUID | None = None,
        remind_supervisor: bool = True,
        facts: PageFacts = KCMO_FACTS,
    ) -> PageRequested:
        now = self.clock.now()
        return PageRequested(
            occurred_at=now,
            assignment_id=assignment_id or uuid.uuid4(),
            incident_id=incident_id or uuid.uuid4(),
            member_id="M-" + phone[-3:],
            phone=phone,
            channel="sms" if channel == "sms" else "call",
            facts=facts,
            remind_supervisor=remind_supervisor,
            answer_by=now + timedelta(minutes=5),
        )

    async def request_page(self, **kwargs: Any) -> PageRequested:
        event = self.page_request(**kwargs)
        await self.publish(event)
        return event

    async def withdraw(self, page: PageRequested, reason: str = "enough accepted") -> None:
        await self.publish(
            PageWithdrawn(
                occurred_at=self.clock.now(),
                assignment_id=page.assignment_id,
                incident_id=page.incident_id,
                reason=reason,
            )
        )

    # -- the database ---------------------------------------------------------------------
    async def add_specialist(self, phone: str, *, agency: str = "kcmo") -> None:
        """An active specialist with this (confirmed) phone and current training."""
        async with unit_of_work(self.sessions) as session:
            await add_ready_entries(
                session,
                agency=agency,
                entries=[
                    {
                        "agency": agency,
                        "member_id": "M-" + phone[-3:],
                        "name": "Specialist " + phone[-3:],
                        "phone": phone,
                        "status": "active",
                        "on_duty": False,
                        "on_call": True,
                        "under_investigation": False,
                    }
                ],
                now=self.clock.now(),
            )
            await session.commit()

    async def add_token(self, *, agency: str, role: str, phone: str | None) -> None:
        async with unit_of_work(self.sessions) as session:
            session.add(
                ApiToken(
                    id=uuid.uuid4(),
                    agency=agency,
                    role=role,
                    name=f"{role} {phone}",
                    phone=phone,
                    token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                    created_at=self.clock.now(),
                    revoked_at=None,
                )
            )
            await session.commit()

    async def page_row(self, page: PageRequested) -> NotifierPage | None:
        async with unit_of_work(self.sessions) as session:
            row = await session.scalar(
                select(NotifierPage).where(
                    NotifierPage.assignment_id == page.assignment_id,
                    NotifierPage.channel == page.channel,
                )
            )
            if row is not None:
                session.expunge(row)
            return row

    async def wait_state(self, page: PageRequested, *states: str) -> NotifierPage:
        async def reached() -> NotifierPage | None:
            row = await self.page_row(page)
            return row if row is not None and row.state in states else None

        row: NotifierPage = await eventually(reached, what=f"the page in state {states}")
        return row

    async def outcomes(self, page: PageRequested | None = None) -> list[PageOutcomeReported]:
        async with unit_of_work(self.sessions) as session:
            payloads = await session.scalars(
                select(OutboxMessage.payload)
                .where(OutboxMessage.event_type == "page.outcome")
                .order_by(OutboxMessage.id)
            )
            reported = [PageOutcomeReported.model_validate(p) for p in payloads]
        if page is None:
            return reported
        return [o for o in reported if o.assignment_id == page.assignment_id]

    async def outcome_names(self, page: PageRequested) -> list[str]:
        return [o.outcome for o in await self.outcomes(page)]

    async def wait_outcome(self, page: PageRequested, outcome: str) -> PageOutcomeReported:
        async def found() -> PageOutcomeReported | None:
            return next((o for o in await self.outcomes(page) if o.outcome == outcome), None)

        reported: PageOutcomeReported = await eventually(found, what=f"outcome {outcome}")
        return reported

    # -- Twilio ---------------------------------------------------------------------------
    async def wait_messages(self, count: int, *, to: str | None = None) -> list[RecordedRequest]:
        def enough() -> list[RecordedRequest] | None:
            sent = [m for m in self.twilio.messages if to is None or m.form.get("To") == to]
            return sent if len(sent) >= count else None

        messages: list[RecordedRequest] = await eventually(enough, what=f"{count} message(s)")
        return messages

    async def wait_calls(self, count: int) -> list[RecordedRequest]:
        def enough() -> list[RecordedRequest] | None:
            return self.twilio.calls if len(self.twilio.calls) >= count else None

        calls: list[RecordedRequest] = await eventually(enough, what=f"{count} call(s)")
        return calls

    async def settle(self, seconds: float = 0.6) -> None:
        """Let the loops run a few rounds (to show that something does NOT happen)."""
        await asyncio.sleep(seconds)


@dataclass
class StatementLog:
    """Statements and commits on an engine while recording."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0
    recording: bool = False

    def statement(self, _conn: Connection, _cursor: Any, sql: str, *_args: Any) -> None:
        if self.recording:
            self.statements.append(sql)

    def commit(self, _conn: Connection) -> None:
        if self.recording:
            self.commits += 1

    @contextmanager
    def record(self) -> Iterator[StatementLog]:
        self.statements.clear()
        self.commits = 0
        self.recording = True
        try:
            yield self
        finally:
            self.recording = False


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    built = build_engine(database_url, pool_size=2)
    yield built
    await built.dispose()


@pytest.fixture
def statements(engine: AsyncEngine) -> StatementLog:
    log = StatementLog()
    event.listen(engine.sync_engine, "before_cursor_execute", log.statement)
    event.listen(engine.sync_engine, "commit", log.commit)
    return log


StartNotifier = Callable[..., AbstractAsyncContextManager[Notifier]]


@pytest.fixture
def start_notifier(settings: Settings, clock: ManualClock) -> StartNotifier:
    @asynccontextmanager
    async def start(*, twilio: bool = True, tuning: SenderTuning = FAST) -> AsyncIterator[Notifier]:
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        standin = TwilioStandIn(callback_base=public_url, service_number=SERVICE_NUMBER)
        await standin.start()
        configured = settings.model_copy(update={"public_url": HttpUrl(public_url)})
        if twilio:
            configured = configured.model_copy(
                update={
                    "twilio_account_sid": standin.account_sid,
                    "twilio_auth_token": standin.auth_token,
                    "twilio_from": SERVICE_NUMBER,
                    "twilio_api_base": HttpUrl(standin.url),
                }
            )
        app = create_app(configured, clock=clock, tuning=tuning)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_config=None,
                access_log=False,
                lifespan="on",
            )
        )
        serving = asyncio.create_task(server.serve())
        try:
            await eventually(lambda: server.started or serving.done(), what="the notifier up")
            if serving.done():
                serving.result()
            yield Notifier(
                url=public_url,
                settings=configured,
                clock=clock,
                sessions=app.state.runtime.sessions,
                topics=app.state.runtime.topics,
                twilio=standin,
            )
        finally:
            server.should_exit = True
            await serving
            await standin.stop()

    return start
