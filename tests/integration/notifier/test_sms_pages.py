"""The SMS page and the replies to it, through the notifier's event contract and real HTTP."""

from __future__ import annotations

import re

from services.notifier.page_text import (
    CONFIDENTIALITY_REMINDER,
    SUPERVISOR_REMINDER,
    gsm7_septets,
    sms_segments,
)
from services.notifier.sms_reply import HELP_TEXT
from tests.integration.notifier.conftest import (
    KCMO_FACTS,
    OTHER_SPECIALIST_PHONE,
    SERVICE_NUMBER,
    SPECIALIST_PHONE,
    STRANGER_PHONE,
    StartNotifier,
)


def code_of(body: str) -> str:
    found = re.search(r"Reply YES (\d{4}) to accept, NO \1 to decline", body)
    assert found, body
    return found.group(1)


async def test_the_page_says_time_place_code_and_reminders_and_yes_with_its_code_accepts(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        page = await notifier.request_page(remind_supervisor=True)
        [message] = await notifier.wait_messages(1)

        body = message.form["Body"]
        code = code_of(body)
        assert message.form["To"] == SPECIALIST_PHONE
        assert message.form["From"] == SERVICE_NUMBER
        assert "officer-involved shooting at 1200 Grand Blvd" in body
        assert "Fri 20 Nov 22:14" in body, "the incident's local time (America/Chicago)"
        assert CONFIDENTIALITY_REMINDER in body, "830 §III.H.7"
        assert SUPERVISOR_REMINDER in body, "830 §IV.A.3"
        assert gsm7_septets(body) is not None, "nothing that forces UCS-2"
        assert sms_segments(body) <= 2
        row = await notifier.wait_state(page, "sent")
        assert message.form["StatusCallback"] == f"{notifier.url}/v1/twilio/status?page={row.id}"
        assert message.form["ValidityPeriod"] == "120", "a page never arrives hours late"
        await notifier.wait_outcome(page, "sent")

        answer = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, f"  yes {code} ")
        assert answer.status == 200
        [confirmation] = answer.said()
        assert f"you accepted page {code}" in confirmation
        assert SUPERVISOR_REMINDER in confirmation
        accepted = await notifier.wait_outcome(page, "accepted")
        assert accepted.channel == "sms"
        assert accepted.incident_id == page.incident_id

        again = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, f"YES {code}")
        assert again.said() == [f"Page {code} has closed or is not yours; nothing was changed."]
        assert await notifier.outcome_names(page) == ["sent", "accepted"], "answered once"


async def test_kck_page_has_no_supervisor_reminder_and_no_declines_the_newest_page(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        kck = KCMO_FACTS.model_copy(update={"agency": "kck"})
        older = await notifier.request_page(facts=kck, remind_supervisor=False)
        await notifier.wait_state(older, "sent")
        notifier.clock.advance(30)
        newer = await notifier.request_page(facts=kck, remind_supervisor=False)
        await notifier.wait_state(newer, "sent")
        first, second = await notifier.wait_messages(2)
        assert SUPERVISOR_REMINDER not in first.form["Body"]
        assert CONFIDENTIALITY_REMINDER in first.form["Body"]
        assert code_of(first.form["Body"]) != code_of(second.form["Body"]), (
            "codes are unique among a number's open pages"
        )

        answer = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "no")
        assert answer.said() == [f"Thank you: you declined page {code_of(second.form['Body'])}."]
        await notifier.wait_outcome(newer, "declined")
        assert await notifier.outcome_names(older) == ["sent"], "only the newest is answered"

        answer = await notifier.twilio.send_inbound_sms(
            SPECIALIST_PHONE, f"Y {code_of(first.form['Body'])}"
        )
        await notifier.wait_outcome(older, "accepted")


async def test_a_number_on_no_roster_changes_nothing_and_gets_no_reply(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        page = await notifier.request_page()
        [message] = await notifier.wait_messages(1)
        code = code_of(message.form["Body"])
        await notifier.wait_outcome(page, "sent")

        for body in (f"YES {code}", "STOP", "help"):
            answer = await notifier.twilio.send_inbound_sms(STRANGER_PHONE, body)
            assert answer.status == 200
            assert answer.said() == []
        await notifier.settle()
        assert await notifier.outcome_names(page) == ["sent"]
        row = await notifier.page_row(page)
        assert row is not None and row.closed_at is None and row.answer is None


async def test_help_replies_are_rate_limited_per_number_and_a_resent_webhook_is_ignored(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.add_specialist(OTHER_SPECIALIST_PHONE)
        replies = [
            (await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, body)).said()
            for body in ("what is this?", "HELP", "ok thanks", "thank you!", "bye")
        ]
        assert replies == [[HELP_TEXT]] * 3 + [[]] * 2, "at most three an hour: robots stop"
        assert (await notifier.twilio.send_inbound_sms(OTHER_SPECIALIST_PHONE, "?")).said() == [
            HELP_TEXT
        ], "the limit is per number"

        notifier.clock.advance(3601)
        assert (await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "hi")).said() == [
            HELP_TEXT
        ]
        resent = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "hi", message_sid="SMx1")
        assert resent.said() == [HELP_TEXT]
        again = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "hi", message_sid="SMx1")
        assert again.said() == [], "Twilio's retry of the same message changes nothing"
