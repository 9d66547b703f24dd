"""A run of page commands in one transaction (`PageCommandHandler.handle_batch`): the same rows
as handling the commands one at a time, nothing new when it comes again, three statements for
any number of page requests, and a commit that wakes the sender."""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.models import ApiToken
from services.notifier.page_commands import PageCommandHandler
from services.notifier.page_runs import claim_run_locking_phones
from services.notifier.pages import phone_lock_key
from services.notifier.send_signals import pages_queued
from shared.clock import ManualClock
from shared.db.commit_signals import CommitSignal
from shared.db.engine import SessionFactory, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    AnyEvent,
    CoordinatorAlertRaised,
    PageRequested,
    PageWithdrawn,
)
from shared.kafka.clients import build_producer
from shared.kafka.topics import Topics
from shared.settings import Settings
from tests.harness.scripted_draws import ScriptedDraws
from tests.integration.notifier.conftest import KCMO_FACTS, StartNotifier, StatementLog

P1, P2, P3 = "+18165550111", "+18165550122", "+18165550133"
X, B, C, D, E, F = "4821", "5930", "6047", "7152", "8263", "2938"
DRAWS = [X, X, B, B, C, D, E, C, F]
"""The page before the run draws X; in the run A1 draws X (open) then B, A2 draws B (taken by
A1 in the same run) then C, A3 draws D, A5 draws E, and A6 draws C (A2's, closed meanwhile).
A run that lost track of the codes it gave would give A2 B, or A6 F."""


class Commands:
    """Page commands as the dispatcher sends them, for a handful of assignments."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.incidents: dict[uuid.UUID, uuid.UUID] = {}

    def page(self, assignment_id: uuid.UUID, phone: str, channel: str = "sms") -> PageRequested:
        incident_id = self.incidents.setdefault(assignment_id, uuid.uuid4())
        return PageRequested(
            occurred_at=self.clock.now(),
            assignment_id=assignment_id,
            incident_id=incident_id,
            member_id="M-" + phone[-3:],
            phone=phone,
            channel="sms" if channel == "sms" else "call",
            facts=KCMO_FACTS,
            remind_supervisor=True,
            answer_by=self.clock.now() + timedelta(minutes=5),
        )

    def withdrawal(self, assignment_id: uuid.UUID) -> PageWithdrawn:
        return PageWithdrawn(
            occurred_at=self.clock.now(),
            assignment_id=assignment_id,
            incident_id=self.incidents.setdefault(assignment_id, uuid.uuid4()),
            reason="enough accepted",
        )

    def alert(self) -> CoordinatorAlertRaised:
        return CoordinatorAlertRaised(
            occurred_at=self.clock.now(),
            alert_id=uuid.uuid4(),
            agency="kcmo",
            incident_id=None,
            reason="no_one_left",
            message="No specialist left to page; call in.",
        )


def handler(
    engine: AsyncEngine, settings: Settings, clock: ManualClock, rng: random.Random
) -> PageCommandHandler:
    return PageCommandHandler(
        sessions=build_session_factory(engine), clock=clock, settings=settings, rng=rng
    )


async def pages(sessions: SessionFactory) -> list[dict[str, Any]]:
    """Every page row, in a stable order."""
    async with unit_of_work(sessions) as session:
        rows = await session.execute(
            text(
                "SELECT * FROM notifier_pages ORDER BY kind, assignment_id, channel, "
                "alert_id, phone"
            )
        )
        return [dict(row._mapping) for row in rows]


async def claims(sessions: SessionFactory) -> list[tuple[str, str]]:
    """The notifier's claims, each with the transaction that wrote it."""
    async with unit_of_work(sessions) as session:
        rows = await session.execute(
            text(
                "SELECT event_id, xmin::text FROM processed_events "
                "WHERE consumer = 'notifier' ORDER BY event_id"
            )
        )
        return [(event_id, xmin) for event_id, xmin in rows]


async def forget_everything(sessions: SessionFactory) -> None:
    async with unit_of_work(sessions) as session:
        for table in ("notifier_pages", "notifier_withdrawals", "processed_events"):
            await session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our names)
        await session.commit()


def without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{column: value for column, value in row.items() if column != "id"} for row in rows]


async def test_a_run_leaves_the_rows_of_one_command_at_a_time_and_again_changes_nothing(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    sessions = build_session_factory(engine)
    async with unit_of_work(sessions) as session:
        session.add(
            ApiToken(
                id=uuid.uuid4(),
                agency="kcmo",
                role="coordinator",
                name="coordinator",
                phone="+18165550201",
                token_hash=hashlib.sha256(b"coordinator").hexdigest(),
                created_at=clock.now(),
                revoked_at=None,
            )
        )
        await session.commit()
    commands = Commands(clock)
    a0, a1, a2, a3, a5, a6 = (uuid.uuid4() for _ in range(6))
    before: list[AnyEvent] = [commands.page(a0, P1), commands.withdrawal(a3)]
    first = commands.page(a1, P1)
    run: list[AnyEvent] = [
        first,
        commands.page(a2, P1),
        commands.page(a0, P1, "call"),  # shares A0's open code X
        commands.alert(),
        commands.page(a3, P2),  # withdrawn before its request came: cancelled at birth
        commands.page(a1, P1),  # a repeated command: nothing
        commands.withdrawal(a2),
        commands.page(a2, P1, "call"),  # after its withdrawal: cancelled at birth
        commands.page(a5, P3),
        commands.page(a6, P1),
        first,  # delivered twice in one fetch
    ]

    one_at_a_time_draws = ScriptedDraws(DRAWS)
    one_at_a_time = handler(engine, settings, clock, one_at_a_time_draws)
    for event in before + run:
        await one_at_a_time(event)
    expected = await pages(sessions)
    expected_claims = [event_id for event_id, _ in await claims(sessions)]

    await forget_everything(sessions)
    batched_draws = ScriptedDraws(DRAWS)
    batched = handler(engine, settings, clock, batched_draws)
    for event in before:
        await batched(event)
    await batched.handle_batch(run)
    found = await pages(sessions)

    assert without_ids(found) == without_ids(expected)
    assert batched_draws.drawn == one_at_a_time_draws.drawn == len(DRAWS) - 1
    codes = {(row["assignment_id"], row["channel"]): row["code"] for row in found}
    states = {(row["assignment_id"], row["channel"]): row["state"] for row in found}
    assert codes == {
        (a0, "sms"): X,
        (a0, "call"): X,
        (a1, "sms"): B,
        (a2, "sms"): C,
        (a2, "call"): C,
        (a3, "sms"): D,
        (a5, "sms"): E,
        (a6, "sms"): C,
        (None, "sms"): None,
    }
    open_codes = [row["code"] for row in found if row["phone"] == P1 and not row["closed_at"]]
    assert sorted(open_codes) == sorted([X, X, B, C]), "one code per open assignment of P1"
    assert states == {
        (a0, "sms"): "queued",
        (a0, "call"): "queued",
        (a1, "sms"): "queued",
        (a2, "sms"): "cancelled",
        (a2, "call"): "cancelled",
        (a3, "sms"): "cancelled",
        (a5, "sms"): "queued",
        (a6, "sms"): "queued",
        (None, "sms"): "queued",
    }
    run_claims = await claims(sessions)
    assert [event_id for event_id, _ in run_claims] == expected_claims
    run_ids = {str(event.event_id) for event in run}
    assert len({xmin for event_id, xmin in run_claims if event_id in run_ids}) == 1

    await batched.handle_batch(run)
    assert await pages(sessions) == found, "a redelivered run changes nothing"
    assert await claims(sessions) == run_claims


async def test_a_run_of_page_requests_is_three_statements_in_one_transaction(
    engine: AsyncEngine, statements: StatementLog, settings: Settings, clock: ManualClock
) -> None:
    commands = Commands(clock)
    run_handler = handler(engine, settings, clock, random.Random(5))
    for length in (2, 12, 40):
        phones = [f"+1816555{index % 7:04d}" for index in range(length)]  # phones repeat
        run: list[AnyEvent] = [commands.page(uuid.uuid4(), phone) for phone in phones]
        with statements.record():
            await run_handler.handle_batch(run)
        assert (len(statements.statements), statements.commits) == (3, 1), length
        with statements.record():
            await run_handler.handle_batch(run)
        assert len(statements.statements) == 1, "a redelivered run: its claim, and nothing else"
    async with unit_of_work(build_session_factory(engine)) as session:
        per_phone = await session.execute(
            text("SELECT phone, count(*), count(DISTINCT code) FROM notifier_pages GROUP BY phone")
        )
        assert all(count == distinct for _, count, distinct in per_phone), "codes distinct"


async def test_a_run_holds_the_locks_of_its_claimed_requests_phones_until_it_ends(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    """Codes are chosen under the phone's lock (`pages.lock_phone`), as one at a time: an
    inbound reply or another run on the same phone waits. A request handled before (P3's)
    locks nothing."""
    sessions = build_session_factory(engine)
    commands = Commands(clock)
    handled = commands.page(uuid.uuid4(), P3)
    await handler(engine, settings, clock, random.Random(5))(handled)
    run = [commands.page(uuid.uuid4(), P2), commands.page(uuid.uuid4(), P1), handled]

    async def free(phone: str) -> bool:
        async with unit_of_work(sessions) as other:
            taken = await other.scalar(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": phone_lock_key(phone)},
            )
            return bool(taken)

    async with unit_of_work(sessions) as session:
        claimed = await claim_run_locking_phones(session, consumer="notifier", requests=run)
        assert claimed == {str(run[0].event_id), str(run[1].event_id)}
        assert [await free(phone) for phone in (P1, P2, P3)] == [False, False, True]
    assert [await free(phone) for phone in (P1, P2, P3)] == [True, True, True]


async def test_a_failed_run_leaves_nothing_for_the_one_at_a_time_path(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    """One request cannot be stored (a member id too long for its column: the database
    refuses it in the run's insert as in the single one) after the run's claims: the whole run
    is rolled back, and one at a time the others are paged."""
    sessions = build_session_factory(engine)
    commands = Commands(clock)
    good = [commands.page(uuid.uuid4(), P1), commands.page(uuid.uuid4(), P2)]
    bad = commands.page(uuid.uuid4(), P3).model_copy(update={"member_id": "M" * 65})
    one_handler = handler(engine, settings, clock, random.Random(5))
    with pytest.raises(DBAPIError, match="too long"):
        await one_handler.handle_batch([good[0], bad, good[1]])
    assert await pages(sessions) == []
    assert await claims(sessions) == []
    for event in good:
        await one_handler(event)
    assert len(await pages(sessions)) == 2
    with pytest.raises(DBAPIError, match="too long"):
        await one_handler(bad)


async def test_the_commit_of_a_run_wakes_the_sender_of_its_channel(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    commands = Commands(clock)
    sms = CommitSignal(engine, pages_queued("sms"))
    call = CommitSignal(engine, pages_queued("call"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        run: list[AnyEvent] = [commands.page(uuid.uuid4(), P1), commands.page(uuid.uuid4(), P2)]
        await handler(engine, settings, clock, random.Random(5)).handle_batch(run)
        started = loop.time()
        await sms.wait(stop, 5.0)
        assert loop.time() - started < 1.0, "the SMS sender was woken"
        started = loop.time()
        await call.wait(stop, 0.3)
        assert loop.time() - started >= 0.3, "the call sender was not"
    finally:
        sms.close()
        call.close()


async def test_a_burst_fetched_together_is_paged_from_one_transaction(
    start_notifier: StartNotifier, settings: Settings, clock: ManualClock, topics: Topics
) -> None:
    """Commands already waiting in Kafka when the notifier starts come in one fetch (one
    incident: one partition), so the consumer hands them to the batch handler."""
    commands = Commands(clock)
    incident_id = uuid.uuid4()
    burst = [
        commands.page(uuid.uuid4(), phone).model_copy(update={"incident_id": incident_id})
        for phone in (P1, P1, P2, P3)
    ]
    producer = build_producer(settings.require_kafka_bootstrap(), client_id="burst")
    await producer.start()
    try:
        for event in burst:
            await producer.send(
                topics.page_commands,
                event.model_dump_json().encode(),
                key=str(incident_id).encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()
    async with start_notifier() as notifier:
        texts = await notifier.wait_messages(len(burst))
        assert sorted(m.form["To"] for m in texts) == sorted(event.phone for event in burst)
        found = await pages(notifier.sessions)
        assert len({row["code"] for row in found if row["phone"] == P1}) == 2
        assert len({xmin for _, xmin in await claims(notifier.sessions)}) == 1
