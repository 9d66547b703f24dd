"""The notifier's hot paths, batched: one statement claims a batch of pages, one transaction
records what Twilio answered for all of them, and a page request is three statements in one
transaction.

"One statement" and "one transaction" are read from PostgreSQL itself: the rows a transaction
wrote carry its id (`xmin`) until they are written again.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notifier.models import NotifierPage, OptOut
from services.notifier.outcomes import outcome_event
from services.notifier.page_commands import PageCommandHandler
from services.notifier.page_states import PageKind, SendState
from services.notifier.send_rules import answered
from services.notifier.sending_rows import Answer, SendingRow, record_answers
from services.notifier.twilio_port import Accepted
from shared.clock import ManualClock
from shared.db.engine import build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import PageRequested
from shared.kafka.topics import Topics
from shared.settings import Settings
from tests.harness.sending_rows import SENDING as CLAIMED
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    KCMO_FACTS,
    Notifier,
    StartNotifier,
    StatementLog,
)
from tests.twilio_standin import Reply

SLOW_S = 1.5
"""Twilio's delay in answering, so the test sees the batch `sending`."""


async def queue_pages(notifier: Notifier, phones: list[str], **columns: Any) -> list[uuid.UUID]:
    """Queue one SMS page per phone in one transaction, so that one claim finds them all."""
    now = notifier.clock.now()
    ids = [uuid.uuid4() for _ in phones]
    async with unit_of_work(notifier.sessions) as session:
        for page_id, phone in zip(ids, phones, strict=True):
            values: dict[str, Any] = {
                "id": page_id,
                "kind": PageKind.PAGE.value,
                "channel": "sms",
                "agency": "kcmo",
                "assignment_id": uuid.uuid4(),
                "incident_id": uuid.uuid4(),
                "member_id": "M-" + phone[-3:],
                "phone": phone,
                "code": "4821",
                "body": f"a page to {phone}",
                "facts": KCMO_FACTS.model_dump(mode="json"),
                "remind_supervisor": False,
                "state": SendState.QUEUED.value,
                "attempts": 0,
                "send_after": now,
                "send_deadline": now + timedelta(minutes=2),
                "twilio_status_rank": 0,
                "created_at": now,
            }
            session.add(NotifierPage(**(values | columns.get(phone, {}))))
        await session.commit()
    return ids


async def page_writers(notifier: Notifier, ids: list[uuid.UUID]) -> set[str]:
    """The transactions that last wrote the pages."""
    async with unit_of_work(notifier.sessions) as session:
        rows = await session.execute(
            text("SELECT xmin::text FROM notifier_pages WHERE id = ANY(:ids)"), {"ids": ids}
        )
        return {xmin for (xmin,) in rows}


async def outcome_transaction_starts(notifier: Notifier) -> set[str]:
    """When the transactions that wrote the outcomes began (the outbox's `created_at` is the
    transaction's `now()`; its `xmin` changes when the relay marks a row published)."""
    async with unit_of_work(notifier.sessions) as session:
        rows = await session.execute(
            text("SELECT created_at::text FROM outbox_messages WHERE event_type = 'page.outcome'")
        )
        return {created_at for (created_at,) in rows}


async def states(notifier: Notifier, ids: list[uuid.UUID]) -> dict[str, tuple[str, int]]:
    """Each page's (state, attempts), by phone."""
    async with unit_of_work(notifier.sessions) as session:
        rows = await session.execute(
            text("SELECT phone, state, attempts FROM notifier_pages WHERE id = ANY(:ids)"),
            {"ids": ids},
        )
        return {phone: (state, attempts) for phone, state, attempts in rows}


async def test_one_statement_claims_a_batch_and_one_transaction_records_every_answer(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        notifier.twilio.script(
            "Messages",
            Reply.created(delay_s=SLOW_S),
            Reply(500, 20500, "Internal Server Error", delay_s=SLOW_S),
            Reply(400, 21211, "The 'To' number is not a valid phone number.", delay_s=SLOW_S),
            Reply(429, 20429, "Too Many Requests", retry_after=5, delay_s=SLOW_S),
        )
        phones = ["+18165550131", "+18165550132", "+18165550133", "+18165550134"]
        ids = await queue_pages(notifier, phones)

        async def all_sending() -> bool:
            found = await states(notifier, ids)
            return all(state == "sending" for state, _ in found.values())

        await eventually(all_sending, what="the batch claimed")
        assert len(await page_writers(notifier, ids)) == 1, "claimed by one statement"

        answered = {"sent", "uncertain", "send_failed", "queued"}

        async def all_answered() -> dict[str, tuple[str, int]] | None:
            found = await states(notifier, ids)
            return found if {state for state, _ in found.values()} == answered else None

        found = await eventually(all_answered, what="every answer recorded")
        replies = {r.form["To"]: r.status for r in notifier.twilio.requests_to("Messages")}
        assert sorted(replies.values()) == [201, 400, 429, 500], "one request per page"
        expected = {201: ("sent", 1), 500: ("uncertain", 1), 400: ("send_failed", 1)}
        expected[429] = ("queued", 1)
        assert found == {phone: expected[status] for phone, status in replies.items()}

        assert len(await page_writers(notifier, ids)) == 1, "recorded by one transaction"
        assert len(await outcome_transaction_starts(notifier)) == 1, "with their outcomes"
        outcomes = sorted(o.outcome for o in await notifier.outcomes())
        assert outcomes == ["send_failed", "send_uncertain", "sent"]
        notifier.clock.advance(5)
        await notifier.wait_messages(2)  # the 429 is sent again at its time, and only it
        assert len(notifier.twilio.requests_to("Messages")) == 5


async def test_pages_claimed_with_ones_that_must_not_be_sent_are_sent_and_the_others_settled(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        opted_out, closed, sendable = "+18165550141", "+18165550142", "+18165550143"
        async with unit_of_work(notifier.sessions) as session:
            session.add(OptOut(phone=opted_out, opted_out_at=notifier.clock.now()))
            await session.commit()
        closed_at = {"closed_at": notifier.clock.now(), "closed_reason": "withdrawn"}
        ids = await queue_pages(notifier, [opted_out, closed, sendable], **{closed: closed_at})

        async def settled() -> dict[str, tuple[str, int]] | None:
            found = await states(notifier, ids)
            done = all(state not in ("queued", "sending") for state, _ in found.values())
            return found if done else None

        found = await eventually(settled, what="every page sent or settled")
        assert found == {
            opted_out: ("opted_out", 0),
            closed: ("cancelled", 0),
            sendable: ("sent", 1),
        }
        await notifier.settle()
        assert [m.form["To"] for m in notifier.twilio.messages] == [sendable]
        assert sorted(o.outcome for o in await notifier.outcomes()) == ["opted_out", "sent"]


async def test_a_page_request_is_three_statements_in_one_transaction(
    engine: AsyncEngine, statements: StatementLog, settings: Settings, clock: ManualClock
) -> None:
    handler = PageCommandHandler(
        sessions=build_session_factory(engine),
        clock=clock,
        settings=settings,
        rng=random.Random(5),
    )

    def request(channel: str, assignment_id: uuid.UUID) -> PageRequested:
        return PageRequested(
            occurred_at=clock.now(),
            assignment_id=assignment_id,
            incident_id=uuid.uuid4(),
            member_id="M-111",
            phone="+18165550111",
            channel="sms" if channel == "sms" else "call",
            facts=KCMO_FACTS,
            remind_supervisor=False,
            answer_by=clock.now() + timedelta(minutes=5),
        )

    sms = request("sms", uuid.uuid4())
    with statements.record():
        await handler(sms)
    assert (len(statements.statements), statements.commits) == (3, 1), statements.statements
    with statements.record():
        await handler(sms)
    assert len(statements.statements) == 1, "a redelivered command: its claim, and nothing else"
    with statements.record():
        await handler(request("call", sms.assignment_id))
    assert (len(statements.statements), statements.commits) == (3, 1)
    async with unit_of_work(build_session_factory(engine)) as session:
        codes = await session.scalars(
            text("SELECT code FROM notifier_pages WHERE assignment_id = :a"),
            {"a": sms.assignment_id},
        )
        assert len(set(codes)) == 1, "the call reuses the SMS page's code"


async def test_a_record_skips_a_page_swept_meanwhile_and_a_sent_after_its_delivery(
    engine: AsyncEngine, statements: StatementLog, clock: ManualClock, topics: Topics
) -> None:
    """Twilio accepted three pages: one still `sending`, one whose delivery Twilio called back
    before the answer was recorded, one swept as uncertain meanwhile (its outcome reported by
    the sweep). Each takes what applies to it, in one statement."""
    now = clock.now()
    sessions = build_session_factory(engine)
    rows = {
        name: replace(CLAIMED, id=uuid.uuid4(), assignment_id=uuid.uuid4())
        for name in ("sending", "delivered", "swept")
    }
    async with unit_of_work(sessions) as session:
        for name, row in rows.items():
            columns = {column: getattr(row, column) for column in SendingRow.__dataclass_fields__}
            columns |= {"remind_supervisor": False, "created_at": now}
            if name == "delivered":
                columns |= {"twilio_status": "delivered", "twilio_status_rank": 4}
            if name == "swept":
                columns |= {"state": "uncertain", "sending_until": None}
            session.add(NotifierPage(**columns))
        await session.commit()

    answers = []
    for name, row in rows.items():
        settled = answered(
            row, Accepted(sid=f"SM-{name}"), now=now, first_backoff_s=1, max_backoff_s=30
        )
        report = outcome_event(settled.row, outcome="sent", at=now, detail=settled.detail)
        answers.append(Answer(settled.row, report=report))
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        with statements.record():
            recorded = await record_answers(session, answers, topics=topics, at=now)

    assert recorded.ids == {rows["sending"].id, rows["delivered"].id}
    assert [r.assignment_id for r in recorded.reported] == [rows["sending"].assignment_id]
    assert len(statements.statements) == 2, "the record, and the swept page's sid"
    async with unit_of_work(sessions) as session:
        found = {
            page_id: (state, sid)
            for page_id, state, sid in await session.execute(
                text("SELECT id, state, twilio_sid FROM notifier_pages")
            )
        }
        outcomes = list(
            await session.scalars(
                text("SELECT payload->>'outcome' FROM outbox_messages ORDER BY id")
            )
        )
    assert found == {
        rows["sending"].id: ("sent", "SM-sending"),
        rows["delivered"].id: ("sent", "SM-delivered"),
        rows["swept"].id: ("uncertain", "SM-swept"),
    }
    assert outcomes == ["sent"], "delivered was reported by its status callback"
