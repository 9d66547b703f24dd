"""The stood-down notice (an SMS that asks for no answer), and without Twilio credentials what
the console's test phones are told of the messages kept unsent and how they answer them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable

import pytest
from sqlalchemy import select

from services.notifier.call_script import call_say_text
from services.notifier.contact_logs import ExchangeSetup
from services.notifier.inbound_sms import NO_OPEN_PAGE_TEXT, UNKNOWN_CODE_TEXT, accepted_text
from services.notifier.models import NotifierPage
from services.notifier.page_rows import incident_from_facts
from services.notifier.page_text import stood_down_text
from services.notifier.test_phones import answer_as_test_phone, press_key_as_test_phone
from services.notifier.voice import ACCEPTED_WORDS, ANSWERED_WORDS
from shared.db.unit_of_work import unit_of_work
from shared.errors import NotFound
from shared.events import MessageKeptUnsent, NoticeRequested, PageRequested, PageWithdrawn
from shared.outbox.models import SENT, OutboxMessage
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    KCMO_FACTS,
    OTHER_SPECIALIST_PHONE,
    SPECIALIST_PHONE,
    STRANGER_PHONE,
    Notifier,
    StartNotifier,
)

STOOD_DOWN_TEXT = (
    "PST (kcmo): the team for the officer-involved shooting at 1200 Grand Blvd, Kansas City, MO,"
    " Fri 20 Nov 22:14, is stood down. You are no longer needed; no reply needed. Thank you."
)


def code_of(body: str) -> str:
    found = re.search(r"Reply YES (\d{4}) to accept", body)
    assert found, body
    return found.group(1)


def notice_for(notifier: Notifier, page: PageRequested) -> NoticeRequested:
    """The dispatcher's notice to the specialist of `page`'s assignment, as a stand-down sends."""
    return NoticeRequested(
        occurred_at=notifier.clock.now(),
        assignment_id=page.assignment_id,
        incident_id=page.incident_id,
        member_id=page.member_id,
        phone=page.phone,
        notice="stood_down",
        facts=page.facts,
    )


def withdrawal_of(notifier: Notifier, page: PageRequested) -> PageWithdrawn:
    return PageWithdrawn(
        occurred_at=notifier.clock.now(),
        assignment_id=page.assignment_id,
        incident_id=page.incident_id,
        reason="stood_down",
    )


async def notice_rows(notifier: Notifier, page: PageRequested) -> list[NotifierPage]:
    async with unit_of_work(notifier.sessions) as session:
        rows = list(
            await session.scalars(
                select(NotifierPage).where(
                    NotifierPage.assignment_id == page.assignment_id,
                    NotifierPage.kind == "notice",
                )
            )
        )
        session.expunge_all()
        return rows


async def wait_notice(notifier: Notifier, page: PageRequested, state: str) -> NotifierPage:
    async def reached() -> NotifierPage | None:
        rows = await notice_rows(notifier, page)
        return rows[0] if len(rows) == 1 and rows[0].state == state else None

    row: NotifierPage = await eventually(reached, what=f"the notice in state {state}")
    return row


async def kept_unsent(notifier: Notifier) -> list[tuple[OutboxMessage, MessageKeptUnsent]]:
    """The `MessageKeptUnsent` events in the outbox, in order, with their rows."""
    async with unit_of_work(notifier.sessions) as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == "message.kept_unsent")
                .order_by(OutboxMessage.id)
            )
        )
        session.expunge_all()
    return [(row, MessageKeptUnsent.model_validate(row.payload)) for row in rows]


async def wait_kept_unsent(notifier: Notifier, page_id: uuid.UUID) -> MessageKeptUnsent:
    """The event told of `page_id`, once the outbox relay has published it to Kafka."""

    async def published() -> MessageKeptUnsent | None:
        return next(
            (
                event
                for row, event in await kept_unsent(notifier)
                if event.page_id == page_id and row.status == SENT
            ),
            None,
        )

    event: MessageKeptUnsent = await eventually(published, what="MessageKeptUnsent published")
    return event


async def test_a_notice_to_a_specialist_who_accepted_is_one_sms_that_nothing_answers_or_closes(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        page = await notifier.request_page()
        [page_message] = await notifier.wait_messages(1)
        code = code_of(page_message.form["Body"])
        await notifier.wait_outcome(page, "sent")
        await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, f"YES {code}")
        await notifier.wait_outcome(page, "accepted")

        # The stand-down, as the dispatcher writes it: the withdrawal, then the notice; the
        # notice delivered twice and repeated under another event id.
        notice = notice_for(notifier, page)
        await notifier.withdraw(page, reason="stood_down")
        await notifier.publish(notice, notice, notice.model_copy(update={"event_id": uuid.uuid4()}))
        _, message = await notifier.wait_messages(2)
        assert message.form["To"] == SPECIALIST_PHONE
        assert message.form["Body"] == STOOD_DOWN_TEXT
        assert stood_down_text(incident_from_facts(KCMO_FACTS)) == STOOD_DOWN_TEXT
        row = await wait_notice(notifier, page, "sent")
        assert (row.kind, row.channel, row.code, row.answer, row.closed_at) == (
            "notice",
            "sms",
            None,
            None,
            None,
        )
        assert message.form["StatusCallback"] == f"{notifier.url}/v1/twilio/status?page={row.id}"
        assert message.form["ValidityPeriod"] == "3600", "sent like an alert, within its hour"
        assert row.twilio_sid is not None
        assert (await notifier.twilio.send_status(row.twilio_sid, "delivered")).status == 204

        reply = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "YES")
        assert reply.said() == [NO_OPEN_PAGE_TEXT], "the notice is no page to answer"
        await notifier.settle()
        assert len(notifier.twilio.messages) == 2, "one notice, however often it is asked"
        assert await notifier.outcome_names(page) == ["sent", "accepted"], (
            "the notice reports nothing: not sent, not delivered, not answered"
        )
        [row] = await notice_rows(notifier, page)
        assert (row.state, row.answer, row.closed_at) == ("sent", None, None)


async def test_a_notice_asked_with_the_withdrawal_of_an_open_page_is_sent_and_answers_nothing(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        page = await notifier.request_page()
        [page_message] = await notifier.wait_messages(1)
        code = code_of(page_message.form["Body"])
        await notifier.wait_outcome(page, "sent")

        # The notice first and the withdrawal in the same commit: the withdrawal closes the
        # page, not the notice, even while the notice is still queued.
        await notifier.publish(notice_for(notifier, page), withdrawal_of(notifier, page))
        _, message = await notifier.wait_messages(2)
        assert message.form["Body"] == STOOD_DOWN_TEXT
        row = await wait_notice(notifier, page, "sent")
        assert row.closed_at is None

        async def page_closed() -> bool:
            async with unit_of_work(notifier.sessions) as session:
                closed = await session.scalar(
                    select(NotifierPage.closed_at).where(
                        NotifierPage.assignment_id == page.assignment_id,
                        NotifierPage.kind == "page",
                    )
                )
            return closed is not None

        await eventually(page_closed, what="the page closed by its withdrawal")
        reply = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, f"YES {code}")
        assert reply.said() == [UNKNOWN_CODE_TEXT.format(code=code)]
        await notifier.settle()
        assert await notifier.outcome_names(page) == ["sent"]


async def test_without_twilio_a_page_kept_unsent_is_told_once_and_a_test_phone_accepts_it(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier(twilio=False) as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        page = await notifier.request_page(remind_supervisor=True)
        row = await notifier.wait_state(page, "not_sent")
        assert row.code is not None

        told = await wait_kept_unsent(notifier, row.id)
        [(outbox_row, _)] = await kept_unsent(notifier)
        assert outbox_row.topic == notifier.topics.activity
        assert outbox_row.key == str(page.incident_id)
        assert (told.kind, told.channel, told.agency, told.phone) == (
            "page",
            "sms",
            "kcmo",
            SPECIALIST_PHONE,
        )
        assert (told.incident_id, told.assignment_id) == (page.incident_id, page.assignment_id)
        assert (told.code, told.text) == (row.code, row.body)
        assert f"Reply YES {row.code} to accept" in told.text

        def as_test_phone(phone: str, body: str) -> Awaitable[str | None]:
            return answer_as_test_phone(
                phone=phone,
                body=body,
                sessions=notifier.sessions,
                topics=notifier.topics,
                clock=notifier.clock,
                setup=ExchangeSetup.of(notifier.settings),
            )

        assert await as_test_phone(STRANGER_PHONE, f"YES {row.code}") is None, "no roster"
        reply = await as_test_phone(SPECIALIST_PHONE, f"YES {row.code}")
        assert reply == accepted_text(row.code, remind_supervisor=True)
        accepted = await notifier.wait_outcome(page, "accepted")
        assert (accepted.channel, accepted.incident_id) == ("sms", page.incident_id)
        again = await as_test_phone(SPECIALIST_PHONE, f"YES {row.code}")
        assert again == UNKNOWN_CODE_TEXT.format(code=row.code)

        await notifier.settle()
        assert await notifier.outcome_names(page) == ["accepted"], "answered once, never sent"
        assert len(await kept_unsent(notifier)) == 1, "told once"


async def test_without_twilio_a_call_kept_unsent_is_answered_by_a_key_and_a_notice_is_told(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier(twilio=False) as notifier:
        call = await notifier.request_page(
            channel="call", phone=OTHER_SPECIALIST_PHONE, remind_supervisor=False
        )
        row = await notifier.wait_state(call, "not_sent")
        told = await wait_kept_unsent(notifier, row.id)
        words = call_say_text(incident_from_facts(KCMO_FACTS), remind_supervisor=False)
        assert (told.channel, told.code, told.text) == ("call", row.code, words)

        def press(page_id: uuid.UUID, digit: str) -> Awaitable[str]:
            return press_key_as_test_phone(
                page_id=page_id,
                digit=digit,
                sessions=notifier.sessions,
                topics=notifier.topics,
                clock=notifier.clock,
            )

        assert await press(row.id, "*") == words, "any other key hears the script again"
        assert await press(row.id, "1") == ACCEPTED_WORDS
        accepted = await notifier.wait_outcome(call, "accepted")
        assert accepted.channel == "call"
        assert await press(row.id, "2") == ANSWERED_WORDS
        with pytest.raises(NotFound):
            await press(uuid.uuid4(), "1")

        notice = notice_for(notifier, call)
        await notifier.publish(notice)
        notice_row = await wait_notice(notifier, call, "not_sent")
        told_notice = await wait_kept_unsent(notifier, notice_row.id)
        assert (told_notice.kind, told_notice.channel, told_notice.code) == ("notice", "sms", None)
        assert told_notice.assignment_id == call.assignment_id
        assert told_notice.text == STOOD_DOWN_TEXT
        with pytest.raises(NotFound):
            await press(notice_row.id, "1")
        await notifier.settle()
        assert await notifier.outcome_names(call) == ["accepted"]
        assert len(await kept_unsent(notifier)) == 2
