"""Opt-outs, withdrawals, coordinator alerts, redelivered commands, the webhooks' signatures,
and the demo mode without Twilio credentials."""

from __future__ import annotations

import logging
import re
import uuid

import httpx
import pytest

from pst.commands.serve import build_app
from services.notifier.console import pages_not_sent
from shared.db.unit_of_work import unit_of_work
from shared.events import CoordinatorAlertRaised
from shared.settings import Settings
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    OTHER_SPECIALIST_PHONE,
    SPECIALIST_PHONE,
    StartNotifier,
)
from tests.twilio_standin import Reply


def code_of(body: str) -> str:
    found = re.search(r"YES (\d{4})", body)
    assert found, body
    return found.group(1)


async def test_stop_opts_out_the_number_which_is_called_instead_until_start(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        open_page = await notifier.request_page()
        await notifier.wait_outcome(open_page, "sent")

        stop = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "stop")
        assert stop.said() == [], "Twilio itself confirms STOP"
        await notifier.wait_outcome(open_page, "opted_out")
        await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "STOP")

        later = await notifier.request_page()
        reported = await notifier.wait_outcome(later, "opted_out")
        assert reported.channel == "sms"
        call = await notifier.request_page(
            channel="call", assignment_id=later.assignment_id, incident_id=later.incident_id
        )
        await notifier.wait_outcome(call, "sent")
        assert len(notifier.twilio.messages) == 1, "no SMS to an opted-out number"
        assert len(notifier.twilio.calls) == 1, "but it may be called"
        assert await notifier.outcome_names(open_page) == ["sent", "opted_out"], "once"

        assert (await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "START")).said() == []
        again = await notifier.request_page()
        await notifier.wait_outcome(again, "sent")
        assert len(notifier.twilio.messages) == 2


async def test_twilio_refusing_an_unsubscribed_recipient_opts_the_number_out(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        notifier.twilio.script("Messages", Reply.unsubscribed())
        page = await notifier.request_page()
        await notifier.wait_outcome(page, "opted_out")
        later = await notifier.request_page()
        await notifier.wait_outcome(later, "opted_out")
        assert len(notifier.twilio.requests) == 1


async def test_a_withdrawal_closes_the_page_even_when_it_arrives_first(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        early = notifier.page_request()
        await notifier.withdraw(early)
        await notifier.publish(early)
        assert (await notifier.wait_state(early, "cancelled")).closed_reason == "withdrawn"

        answered_late = await notifier.request_page()
        [message] = await notifier.wait_messages(1)
        await notifier.wait_outcome(answered_late, "sent")
        await notifier.withdraw(answered_late)

        async def closed() -> bool:
            row = await notifier.page_row(answered_late)
            return row is not None and row.closed_at is not None

        await eventually(closed, what="the page closed")
        reply = await notifier.twilio.send_inbound_sms(
            SPECIALIST_PHONE, f"YES {code_of(message.form['Body'])}"
        )
        assert reply.said() == [
            f"Page {code_of(message.form['Body'])} has closed or is not yours; nothing was changed."
        ]
        await notifier.settle()
        assert len(notifier.twilio.messages) == 1, "the early-withdrawn page was never sent"
        assert await notifier.outcome_names(early) == []
        assert await notifier.outcome_names(answered_late) == ["sent"], "a late YES is not taken"


async def test_a_redelivered_or_repeated_page_request_sends_one_page(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        page = notifier.page_request()
        repeated = page.model_copy(update={"event_id": uuid.uuid4()})
        await notifier.publish(page, page, repeated)
        await notifier.wait_outcome(page, "sent")
        barrier = await notifier.request_page(phone=OTHER_SPECIALIST_PHONE)
        await notifier.wait_outcome(barrier, "sent")
        assert [m.form["To"] for m in notifier.twilio.messages] == [
            SPECIALIST_PHONE,
            OTHER_SPECIALIST_PHONE,
        ]


async def test_a_coordinator_alert_texts_each_coordinator_and_manager_with_a_phone_once(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_token(agency="kcmo", role="coordinator", phone="+18165550201")
        await notifier.add_token(agency="kcmo", role="manager", phone="+18165550202")
        await notifier.add_token(agency="kcmo", role="coordinator", phone=None)
        await notifier.add_token(agency="kcmo", role="commander", phone="+18165550203")
        await notifier.add_token(agency="kck", role="coordinator", phone="+19135550204")
        alert = CoordinatorAlertRaised(
            occurred_at=notifier.clock.now(),
            alert_id=uuid.uuid4(),
            agency="kcmo",
            incident_id=uuid.uuid4(),
            reason="no_one_left",
            message="No specialist left to page for the incident of Fri 20 Nov 22:14"
            " \u2014 call in.",
        )
        await notifier.publish(alert, alert.model_copy(update={"event_id": uuid.uuid4()}))
        texts = await notifier.wait_messages(2)
        await notifier.settle()
        assert sorted(m.form["To"] for m in notifier.twilio.messages) == [
            "+18165550201",
            "+18165550202",
        ]
        assert {m.form["Body"] for m in texts} == {
            "PST alert (kcmo): No specialist left to page for the incident of Fri 20 Nov 22:14"
            " - call in."
        }
        assert await notifier.outcomes() == [], "alerts report no page outcome"


@pytest.mark.parametrize("path", ["/v1/twilio/sms", "/v1/twilio/voice", "/v1/twilio/status"])
async def test_unsigned_or_wrongly_signed_webhooks_are_refused(
    start_notifier: StartNotifier, path: str
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        form = {"From": SPECIALIST_PHONE, "Body": "HELP", "MessageSid": "SM1"}
        url = f"{notifier.url}{path}"
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(url, data=form)
            wrong = await client.post(
                url, data=form, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
            )
            other_url = notifier.twilio.sign(f"{notifier.url}/v1/other", form)
            moved = await client.post(url, data=form, headers={"X-Twilio-Signature": other_url})
            tampered_form = dict(form, Body="YES")
            tampered = await client.post(
                url,
                data=tampered_form,
                headers={"X-Twilio-Signature": notifier.twilio.sign(url, form)},
            )
        for response in (unsigned, wrong, moved, tampered):
            assert response.status_code == 403
            assert "X-Twilio-Signature" in response.json()["detail"]
        signed = await notifier.twilio.post_signed(url, form)
        assert signed.status in (200, 204), "the same request, signed, is taken"


async def test_without_twilio_credentials_pages_are_kept_not_sent_and_logged(
    start_notifier: StartNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="services.notifier.sender")
    async with start_notifier(twilio=False) as notifier:
        page = await notifier.request_page()
        call = await notifier.request_page(channel="call", phone=OTHER_SPECIALIST_PHONE)
        await notifier.wait_state(page, "not_sent")
        await notifier.wait_state(call, "not_sent")
        async with unit_of_work(notifier.sessions) as session:
            kept = await pages_not_sent(session, agency="kcmo")
        assert {(p.channel, p.phone) for p in kept} == {
            ("sms", SPECIALIST_PHONE),
            ("call", OTHER_SPECIALIST_PHONE),
        }
        sms_text = next(p.text for p in kept if p.channel == "sms")
        assert "Reply YES" in sms_text
        logged = [r for r in caplog.records if r.getMessage().startswith("page not sent")]
        assert {getattr(r, "to", None) for r in logged} == {
            SPECIALIST_PHONE,
            OTHER_SPECIALIST_PHONE,
        }
        assert any(getattr(r, "text", None) == sms_text for r in logged)
        await notifier.settle()
        assert await notifier.outcomes() == [], "the dispatcher's timers escalate"

        signed = await notifier.twilio.send_inbound_sms(SPECIALIST_PHONE, "YES")
        assert signed.status == 403, "no auth token: no webhook can be checked, none is taken"


def test_the_local_stack_serves_the_webhooks_on_the_intake_port(settings: Settings) -> None:
    webhooks = {"/v1/twilio/sms", "/v1/twilio/voice", "/v1/twilio/status"}
    web = build_app("intake", settings, with_notifier_routes=True)
    assert webhooks <= set(web.openapi()["paths"])
    assert not webhooks & set(build_app("intake", settings).openapi()["paths"])
