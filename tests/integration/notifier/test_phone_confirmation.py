"""Confirming a roster phone (issue 14), through intake's roster write, the outbox, Kafka, the
running notifier, real HTTP and the Twilio stand-in: one SMS with a 6-digit code (only its hash
kept), the right code back from that number confirms the entry, wrong ones count and kill the
code at the fifth, a new request replaces the code, another number's message does nothing, the
code expires, the console's test phones send it back when Twilio is not configured, and a run
of commands handles each request once."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.roster import replace_roster
from services.notifier.models import NotifierPage, PhoneVerification
from services.notifier.page_commands import PageCommandHandler
from services.notifier.phone_confirmations import (
    CONFIRMED_TEXT,
    DEAD_CODE_TEXT,
    NO_CODE_TEXT,
    code_hash,
    code_text,
    wrong_code_text,
)
from services.notifier.sms_reply import HELP_TEXT
from shared.clock import ManualClock
from shared.db.engine import build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import PageRequested, PhoneConfirmationRequested
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage
from shared.roster import phones
from shared.settings import Settings
from tests.harness.roster_ready import TEST_ACTOR
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    FAST,
    KCMO_FACTS,
    OTHER_SPECIALIST_PHONE,
    SPECIALIST_PHONE,
    STRANGER_PHONE,
    Notifier,
    StartNotifier,
)
from tests.integration.notifier.roster_phones import (
    REGISTRY,
    as_test_phone,
    code_in,
    code_rows,
    codes_sent,
    confirmation_requests,
    entry_of,
    load_roster,
    member_of,
    specialist,
    texted,
    verifications,
)
from tests.integration.notifier.test_notices_and_test_phones import kept_unsent

HOUR = timedelta(hours=1)


async def request_again(notifier: Notifier, phone: str = SPECIALIST_PHONE) -> None:
    """A coordinator asks for a new code (the roster's own request, through the outbox)."""
    async with unit_of_work(notifier.sessions) as session:
        await phones.request_confirmation(
            session,
            notifier.topics,
            agency="kcmo",
            member_id=member_of(phone),
            phone=phone,
            now=notifier.clock.now(),
        )
        await session.commit()


async def test_a_new_phone_gets_one_sms_with_a_code_and_only_its_hash_is_kept(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await load_roster(
            notifier,
            specialist(SPECIALIST_PHONE),
            specialist(OTHER_SPECIALIST_PHONE),
            confirmed=frozenset({member_of(OTHER_SPECIALIST_PHONE)}),
        )
        [code] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        [request, _] = await confirmation_requests(notifier)
        assert request.phone == SPECIALIST_PHONE
        # Redelivered twice, in one run and alone: nothing more is texted.
        await notifier.publish(request, request)
        await notifier.publish(request)
        await notifier.settle()
        [sms] = notifier.twilio.messages  # and the confirmed phone is texted nothing
        body = sms.form["Body"]
        assert body == code_text(code)
        assert len(body) <= 70
        for words in ("Specialist", "M-111", "kcmo", "111"):
            assert words not in body.replace(code, "")
        assert sms.form["ValidityPeriod"] == str(10 * 3600)

        [row] = await verifications(notifier)
        now = notifier.clock.now()
        assert (row.agency, row.member_id, row.phone) == ("kcmo", "M-111", SPECIALIST_PHONE)
        assert (row.attempts, row.verified_at, row.requested_at, row.sent_at) == (0, None, now, now)
        assert code not in repr(vars(row)), "the code itself is stored nowhere in its row"
        assert row.code_hash == code_hash(
            agency="kcmo", member_id="M-111", phone=SPECIALIST_PHONE, code=code
        )
        assert row.code_hash != hashlib.sha256(code.encode()).hexdigest(), "not the code alone"
        [page] = await code_rows(notifier)
        assert (page["member_id"], page["assignment_id"], page["incident_id"], page["code"]) == (
            "M-111",
            None,
            None,
            None,
        )
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is None
        assert await notifier.outcomes() == [], "nothing is reported to the dispatcher"


async def test_the_right_code_from_the_phone_confirms_it_and_the_sms_loses_the_code(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await load_roster(notifier, specialist(SPECIALIST_PHONE))
        [code] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        notifier.clock.advance(HOUR)
        assert await texted(notifier, SPECIALIST_PHONE, f"  {code} ") == [CONFIRMED_TEXT]

        now = notifier.clock.now()
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at == now
        [row] = await verifications(notifier)
        assert (row.verified_at, row.attempts) == (now, 0)
        [page] = await code_rows(notifier)
        assert code not in page["body"]
        assert page["body"] == code_text(None)
        assert (page["closed_at"], page["closed_reason"], page["state"]) == (
            now,
            "verified",
            "sent",
        )

        # The code again: the phone is confirmed, so it is no code reply any more.
        assert await texted(notifier, SPECIALIST_PHONE, code) == [HELP_TEXT]
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at == now


async def test_wrong_codes_count_and_the_fifth_kills_the_code(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await load_roster(notifier, specialist(SPECIALIST_PHONE))
        [code] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for tries_left in (4, 3, 2):
            assert await texted(notifier, SPECIALIST_PHONE, wrong) == [wrong_code_text(tries_left)]
        # A fourth wrong code counts, but three automatic replies an hour is all a number gets.
        assert await texted(notifier, SPECIALIST_PHONE, wrong) == []
        [row] = await verifications(notifier)
        assert row.attempts == 4
        notifier.clock.advance(HOUR)
        assert await texted(notifier, SPECIALIST_PHONE, wrong) == [DEAD_CODE_TEXT]
        [page] = await code_rows(notifier)
        assert (page["body"], page["closed_reason"]) == (code_text(None), "dead")

        # Dead: even the right code does nothing now.
        assert await texted(notifier, SPECIALIST_PHONE, code) == [DEAD_CODE_TEXT]
        [row] = await verifications(notifier)
        assert (row.attempts, row.verified_at) == (5, None)
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is None


async def test_a_new_request_replaces_the_code_and_resets_its_attempts(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await load_roster(notifier, specialist(SPECIALIST_PHONE))
        [first] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        wrong = f"{(int(first) + 1) % 1_000_000:06d}"
        assert await texted(notifier, SPECIALIST_PHONE, wrong) == [wrong_code_text(4)]
        notifier.clock.advance(HOUR)

        await request_again(notifier)
        [_, second] = await codes_sent(notifier, SPECIALIST_PHONE, 2)
        [row] = await verifications(notifier)
        assert (row.attempts, row.requested_at) == (0, notifier.clock.now())
        old, new = await code_rows(notifier)
        assert (old["body"], old["closed_reason"]) == (code_text(None), "replaced")
        assert new["body"] == code_text(second) and new["closed_at"] is None

        if first != second:  # one chance in a million that they are the same
            assert await texted(notifier, SPECIALIST_PHONE, first) == [wrong_code_text(4)]
        assert await texted(notifier, SPECIALIST_PHONE, second) == [CONFIRMED_TEXT]
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is not None


async def test_a_code_from_another_number_does_nothing(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await load_roster(
            notifier,
            specialist(SPECIALIST_PHONE),
            specialist(OTHER_SPECIALIST_PHONE),
            confirmed=frozenset({member_of(OTHER_SPECIALIST_PHONE)}),
        )
        [code] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        # A confirmed colleague's phone: just digits, the help text.
        assert await texted(notifier, OTHER_SPECIALIST_PHONE, code) == [HELP_TEXT]
        # A number on no roster: nothing changes and nothing is said.
        assert await texted(notifier, STRANGER_PHONE, code) == []
        [row] = await verifications(notifier)
        assert (row.attempts, row.verified_at) == (0, None)
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is None
        assert await texted(notifier, SPECIALIST_PHONE, code) == [CONFIRMED_TEXT]


async def test_a_request_for_a_number_the_entry_no_longer_has_texts_nothing(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await load_roster(
            notifier,
            specialist(SPECIALIST_PHONE),
            confirmed=frozenset({member_of(SPECIALIST_PHONE)}),
        )
        stale = PhoneConfirmationRequested(
            occurred_at=notifier.clock.now(),
            agency="kcmo",
            member_id=member_of(SPECIALIST_PHONE),
            phone=STRANGER_PHONE,
        )
        await notifier.publish(stale, stale.model_copy(update={"event_id": uuid.uuid4()}))
        await notifier.settle()
        assert notifier.twilio.messages == []
        assert await verifications(notifier) == []


async def test_a_code_expires_after_72_hours_and_the_sweep_forgets_it(
    start_notifier: StartNotifier,
) -> None:
    tuning = replace(FAST, contact_log_sweep_interval_s=0.1)
    async with start_notifier(tuning=tuning) as notifier:
        await load_roster(notifier, specialist(SPECIALIST_PHONE))
        [code] = await codes_sent(notifier, SPECIALIST_PHONE, 1)
        notifier.clock.advance(timedelta(hours=71, minutes=59))
        await notifier.settle(0.3)
        assert len(await verifications(notifier)) == 1, "still live"
        notifier.clock.advance(timedelta(minutes=1))

        async def forgotten() -> bool:
            return await verifications(notifier) == []

        await eventually(forgotten, what="the expired code deleted")
        [page] = await code_rows(notifier)
        assert (page["body"], page["closed_reason"]) == (code_text(None), "expired")
        assert await texted(notifier, SPECIALIST_PHONE, code) == [NO_CODE_TEXT]
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is None


async def test_without_twilio_the_code_reaches_the_test_phones_and_they_send_it_back(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier(twilio=False) as notifier:
        await load_roster(notifier, specialist(SPECIALIST_PHONE))

        async def told() -> str | None:
            found = [event for _, event in await kept_unsent(notifier)]
            return found[0].text if found else None

        body = await eventually(told, what="the code kept unsent")
        [(_, event)] = await kept_unsent(notifier)
        assert (event.kind, event.channel, event.phone, event.incident_id, event.code) == (
            "confirm",
            "sms",
            SPECIALIST_PHONE,
            None,
            None,
        )
        code = code_in(body)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert await as_test_phone(notifier, SPECIALIST_PHONE, wrong) == wrong_code_text(4)
        assert await as_test_phone(notifier, SPECIALIST_PHONE, code) == CONFIRMED_TEXT
        assert (await entry_of(notifier, SPECIALIST_PHONE)).phone_verified_at is not None
        [page] = await code_rows(notifier)
        assert (page["state"], page["body"]) == ("not_sent", code_text(None))


async def test_a_run_of_commands_texts_each_new_phone_once(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    """`handle_batch`: confirmation requests between page requests, each claimed once."""
    sessions = build_session_factory(engine)
    handler = PageCommandHandler(
        sessions=sessions, clock=clock, settings=settings, rng=random.Random(5)
    )
    async with unit_of_work(sessions) as session:
        await replace_roster(
            session,
            agency=REGISTRY.get("kcmo"),
            entries=[specialist(SPECIALIST_PHONE), specialist(OTHER_SPECIALIST_PHONE)],
            now=clock.now(),
            actor=TEST_ACTOR,
            topics=Topics(prefix="unread."),
            source="test roster",
        )
        await session.commit()
        requested = [
            PhoneConfirmationRequested.model_validate(payload)
            for payload in await session.scalars(
                select(OutboxMessage.payload)
                .where(OutboxMessage.event_type == "roster.phone_confirmation_requested")
                .order_by(OutboxMessage.id)
            )
        ]
    first, second = requested
    page = PageRequested(
        occurred_at=clock.now(),
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        member_id=member_of(SPECIALIST_PHONE),
        phone=SPECIALIST_PHONE,
        channel="sms",
        facts=KCMO_FACTS,
        remind_supervisor=False,
        answer_by=clock.now() + timedelta(minutes=5),
    )

    async def rows() -> list[tuple[str, str, str]]:
        async with unit_of_work(sessions) as session:
            found = await session.execute(
                select(NotifierPage.kind, NotifierPage.phone, NotifierPage.state).order_by(
                    NotifierPage.kind, NotifierPage.phone
                )
            )
            return [tuple(row) for row in found]  # type: ignore[misc]

    await handler.handle_batch([first, page, first, second])
    expected = [
        ("confirm", SPECIALIST_PHONE, "queued"),
        ("confirm", OTHER_SPECIALIST_PHONE, "queued"),
        ("page", SPECIALIST_PHONE, "queued"),
    ]
    assert await rows() == expected
    await handler.handle_batch([second, first, page])  # the run redelivered
    await handler(first)  # and one alone
    assert await rows() == expected
    async with unit_of_work(sessions) as session:
        codes = (
            await session.execute(select(PhoneVerification.phone, PhoneVerification.attempts))
        ).all()
    assert sorted(codes) == [(SPECIALIST_PHONE, 0), (OTHER_SPECIALIST_PHONE, 0)]
