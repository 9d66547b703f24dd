"""The voice call and its keypress, and Twilio's status callbacks applied only forward."""

from __future__ import annotations

from services.notifier.page_text import CONFIDENTIALITY_REMINDER, SUPERVISOR_REMINDER
from tests.integration.notifier.conftest import SERVICE_NUMBER, SPECIALIST_PHONE, StartNotifier


async def test_silence_then_a_call_and_keypress_1_accepts(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        sms = await notifier.request_page()
        await notifier.wait_outcome(sms, "sent")
        notifier.clock.advance(120)  # no answer: the dispatcher calls
        call = await notifier.request_page(
            channel="call", assignment_id=sms.assignment_id, incident_id=sms.incident_id
        )
        [placed] = await notifier.wait_calls(1)
        row = await notifier.wait_state(call, "sent")
        assert placed.form["To"] == SPECIALIST_PHONE
        assert placed.form["From"] == SERVICE_NUMBER
        assert placed.form["Url"] == f"{notifier.url}/v1/twilio/voice?page={row.id}"
        assert placed.form["StatusCallback"] == f"{notifier.url}/v1/twilio/status?page={row.id}"
        await notifier.wait_outcome(call, "sent")
        call_sid = placed.sid
        assert call_sid is not None

        script = await notifier.twilio.fetch_call_twiml(call_sid)
        assert script.status == 200
        words = " ".join(script.said())
        assert "Officer-involved shooting at 1200 Grand Blvd" in words
        assert "Friday, November 20, at 10:14 PM" in words
        assert CONFIDENTIALITY_REMINDER in words and SUPERVISOR_REMINDER in words
        assert "Press 1 to accept, 2 to decline, star to repeat." in words

        repeated = await notifier.twilio.press_keys(call_sid, "*")
        assert repeated.twiml().find("Gather") is not None, "star repeats the script"
        answered = await notifier.twilio.press_keys(call_sid, "1")
        assert answered.twiml().find("Gather") is None
        assert "You accepted" in " ".join(answered.said())
        accepted = await notifier.wait_outcome(call, "accepted")
        assert accepted.channel == "call"

        await notifier.twilio.send_status(call_sid, "completed")
        await notifier.settle()
        assert await notifier.outcome_names(call) == ["sent", "sent", "accepted"], (
            "the completed call after a keypress is not unanswered"
        )
        late = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "NO")
        assert late.said() == ["No page is waiting for your answer; nothing was changed."]


async def test_a_call_ending_without_a_keypress_is_unanswered_and_2_declines(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        unanswered = await notifier.request_page(channel="call")
        declined = await notifier.request_page(channel="call", phone="+18165550133")
        first, second = await notifier.wait_calls(2)
        by_phone = {c.form["To"]: c.sid for c in (first, second)}
        unanswered_sid, declined_sid = by_phone[SPECIALIST_PHONE], by_phone["+18165550133"]
        assert unanswered_sid and declined_sid

        await notifier.twilio.send_status(unanswered_sid, "ringing")
        await notifier.twilio.send_status(unanswered_sid, "no-answer")
        reported = await notifier.wait_outcome(unanswered, "call_unanswered")
        assert reported.detail is not None and "no-answer" in reported.detail

        closing = await notifier.twilio.press_keys(declined_sid, "2")
        assert "You declined" in " ".join(closing.said())
        await notifier.wait_outcome(declined, "declined")
        again = await notifier.twilio.press_keys(declined_sid, "1")
        assert "already been answered" in " ".join(again.said())
        await notifier.settle()
        assert await notifier.outcome_names(declined) == ["sent", "declined"]


async def test_failed_and_undelivered_sms_report_delivery_failed_and_late_statuses_change_nothing(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        failed = await notifier.request_page()
        undelivered = await notifier.request_page(phone="+18165550133")
        delivered = await notifier.request_page(phone="+18165550144")
        await notifier.wait_messages(3)
        sid = {m.form["To"]: m.sid or "" for m in notifier.twilio.messages}
        for page in (failed, undelivered, delivered):
            await notifier.wait_outcome(page, "sent")

        await notifier.twilio.send_status(sid[SPECIALIST_PHONE], "failed", error_code="30008")
        reported = await notifier.wait_outcome(failed, "delivery_failed")
        assert reported.detail == "Twilio status failed (error 30008)"

        await notifier.twilio.send_status(sid["+18165550133"], "sent")
        await notifier.twilio.send_status(sid["+18165550133"], "undelivered")
        await notifier.wait_outcome(undelivered, "delivery_failed")

        # out of order: delivered first, then the earlier statuses arrive late
        await notifier.twilio.send_status(sid["+18165550144"], "delivered")
        await notifier.wait_outcome(delivered, "delivered")
        for late in ("sending", "sent", "queued", "delivered", "undelivered"):
            answer = await notifier.twilio.send_status(sid["+18165550144"], late)
            assert answer.status == 204
        # and the ended ones never come back
        await notifier.twilio.send_status(sid[SPECIALIST_PHONE], "delivered")
        await notifier.twilio.send_status(sid["+18165550133"], "sent")
        await notifier.settle()

        assert await notifier.outcome_names(failed) == ["sent", "delivery_failed"]
        assert await notifier.outcome_names(undelivered) == ["sent", "delivery_failed"]
        assert await notifier.outcome_names(delivered) == ["sent", "delivered"]
        row = await notifier.page_row(delivered)
        assert row is not None and row.twilio_status == "delivered"
