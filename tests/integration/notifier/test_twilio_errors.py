"""Our retry policy against Twilio's errors: 429 is retried within the send deadline, anything
that may have created the message is never resent, permanent errors are not retried; and the
sending number's rate."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.notifier.models import NotifierPage
from services.notifier.page_states import PageKind, SendState
from services.notifier.sender import SenderTuning
from shared.db.unit_of_work import unit_of_work
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import FAST, StartNotifier
from tests.twilio_standin import Reply


async def test_429_then_201_sends_one_page_not_two(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        notifier.twilio.script("Messages", Reply.too_many_requests(retry_after=2))
        page = await notifier.request_page()

        async def refused_once() -> NotifierPage | None:
            row = await notifier.page_row(page)
            return row if row is not None and row.attempts == 1 and row.state == "queued" else None

        row = await eventually(refused_once, what="the 429 recorded")
        assert row.send_after == notifier.clock.now() + timedelta(seconds=2), "Retry-After"
        assert row.last_error is not None and "429" in row.last_error
        await notifier.settle()
        assert len(notifier.twilio.requests_to("Messages")) == 1, "no retry before its time"
        assert await notifier.outcome_names(page) == []

        notifier.clock.advance(2)
        await notifier.wait_outcome(page, "sent")
        await notifier.settle()
        assert [r.status for r in notifier.twilio.requests_to("Messages")] == [429, 201]
        assert len(notifier.twilio.messages) == 1
        assert await notifier.outcome_names(page) == ["sent"]


async def test_429_until_the_send_deadline_reports_the_sms_failed(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        notifier.twilio.script("Messages", *[Reply.too_many_requests(retry_after=50)] * 5)
        page = await notifier.request_page()
        for attempt in (1, 2):

            async def refused(attempts: int = attempt) -> NotifierPage | None:
                row = await notifier.page_row(page)
                queued = row is not None and row.state == "queued" and row.attempts == attempts
                return row if queued else None

            await eventually(refused, what=f"429 number {attempt}")
            notifier.clock.advance(50)
        reported = await notifier.wait_outcome(page, "delivery_failed")
        assert reported.detail is not None and "deadline" in reported.detail
        assert len(notifier.twilio.messages) == 0
        assert (await notifier.wait_state(page, "expired")).attempts == 3


async def test_500_is_not_resent_and_reports_send_uncertain(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        notifier.twilio.script("Messages", Reply.server_error(500))
        page = await notifier.request_page()
        reported = await notifier.wait_outcome(page, "send_uncertain")
        assert reported.detail == "Twilio answered 500 (20500)"
        notifier.clock.advance(60)
        await notifier.settle()
        assert len(notifier.twilio.requests_to("Messages")) == 1, "no second SMS"
        assert await notifier.outcome_names(page) == ["send_uncertain"]
        assert (await notifier.wait_state(page, "uncertain")).attempts == 1


async def test_a_timeout_is_uncertain_and_never_resent(start_notifier: StartNotifier) -> None:
    tuning = SenderTuning(
        per_number_interval_s=0, poll_interval_s=0.05, sweep_interval_s=0.2, request_timeout_s=0.5
    )
    async with start_notifier(tuning=tuning) as notifier:
        notifier.twilio.script("Messages", Reply.hang(3))
        page = await notifier.request_page()
        reported = await notifier.wait_outcome(page, "send_uncertain")
        assert reported.detail == "no answer from Twilio in time"
        notifier.clock.advance(60)
        await notifier.settle()
        assert len(notifier.twilio.requests_to("Messages")) == 1


async def test_an_invalid_number_is_not_retried_and_reports_send_failed(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        scripted = await notifier.request_page(channel="call")
        notifier.twilio.script("Calls", Reply.invalid_number())
        reported = await notifier.wait_outcome(scripted, "send_failed")
        assert reported.detail is not None and reported.detail.startswith("21211")

        malformed = await notifier.request_page(phone="+1816")  # refused by the stand-in
        reported = await notifier.wait_outcome(malformed, "send_failed")
        assert reported.detail is not None and reported.detail.startswith("21211")
        notifier.clock.advance(60)
        await notifier.settle()
        assert len(notifier.twilio.requests) == 2


async def test_a_page_left_sending_by_a_crash_becomes_uncertain_not_resent(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        now = notifier.clock.now()
        page = notifier.page_request()
        async with unit_of_work(notifier.sessions) as session:
            session.add(
                NotifierPage(
                    id=uuid.uuid4(),
                    kind=PageKind.PAGE.value,
                    channel="sms",
                    agency="kcmo",
                    assignment_id=page.assignment_id,
                    incident_id=page.incident_id,
                    member_id=page.member_id,
                    phone=page.phone,
                    code="4821",
                    body="a page that was being sent when its process died",
                    facts=page.facts.model_dump(mode="json"),
                    remind_supervisor=True,
                    state=SendState.SENDING.value,
                    attempts=1,
                    send_after=now,
                    send_deadline=now + timedelta(minutes=2),
                    sending_until=now + timedelta(seconds=40),
                    twilio_status_rank=0,
                    created_at=now,
                )
            )
            await session.commit()
        await notifier.settle()
        assert await notifier.outcome_names(page) == [], "still within its request time"
        notifier.clock.advance(41)
        reported = await notifier.wait_outcome(page, "send_uncertain")
        assert reported.detail == "the notifier stopped while sending"
        assert notifier.twilio.requests == []


async def test_one_sending_number_sends_at_most_one_sms_a_second(
    start_notifier: StartNotifier,
) -> None:
    tuning = SenderTuning(per_number_interval_s=1.0, poll_interval_s=0.05, sweep_interval_s=0.2)
    async with start_notifier(tuning=tuning) as notifier:
        first = await notifier.request_page()
        await notifier.wait_outcome(first, "sent")
        second = await notifier.request_page(phone="+18165550133")
        third = await notifier.request_page(phone="+18165550144")
        await notifier.wait_state(second, "queued")
        await notifier.settle()
        assert len(notifier.twilio.messages) == 1, "the number's next slot is a second away"
        notifier.clock.advance(1)
        await notifier.wait_messages(2)
        await notifier.settle()
        assert len(notifier.twilio.messages) == 2
        notifier.clock.advance(1)
        await notifier.wait_messages(3)
        assert {o.outcome for p in (second, third) for o in await notifier.outcomes(p)} == {"sent"}
        assert FAST.per_number_interval_s == 0  # the other tests run unthrottled
