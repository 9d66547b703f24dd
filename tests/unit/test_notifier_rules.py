"""The notifier's small pure rules that the end-to-end tests cannot reach easily: how a broken
connection is classified, status ranks, the alert text, the send deadline. No servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp.client_reqrep import ConnectionKey

from services.notifier.alert_text import alert_text
from services.notifier.page_rows import send_deadline
from services.notifier.page_states import status_outcome, status_rank
from services.notifier.page_text import gsm7_septets, sms_segments
from services.notifier.twilio_port import RetryLater, Uncertain, classify_error

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_a_connection_never_made_is_retried_but_one_broken_after_sending_is_uncertain() -> None:
    key = ConnectionKey("api.twilio.com", 443, True, True, None, None, None)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert isinstance(classify_error(refused), RetryLater)
    assert isinstance(classify_error(aiohttp.ServerDisconnectedError()), Uncertain)
    assert isinstance(classify_error(TimeoutError()), Uncertain)
    assert isinstance(classify_error(ValueError("unreadable answer")), Uncertain)


def test_statuses_rank_forward_and_unknown_ones_are_ignored() -> None:
    sms = ("queued", "sending", "sent", "delivered", "undelivered", "failed")
    assert [status_rank("sms", status) for status in sms] == [1, 2, 3, 4, 4, 4]
    call = ("queued", "initiated", "ringing", "in-progress", "completed", "no-answer", "busy")
    assert [status_rank("call", status) for status in call] == [1, 2, 3, 4, 5, 5, 5]
    assert status_rank("sms", "teleported") is None
    assert status_outcome("sms", "failed", "21610") == "opted_out"
    assert status_outcome("sms", "sent") is None
    assert status_outcome("call", "busy") == "call_unanswered"
    assert status_outcome("call", "in-progress") is None


def test_an_alert_is_plain_gsm_and_cut_to_two_segments() -> None:
    text = alert_text("kcmo", "Nobody left \u2014 \u201ccall in\u201d. " + "x" * 500)
    assert text.startswith('PST alert (kcmo): Nobody left - "call in". x')
    assert text.endswith("...")
    assert gsm7_septets(text) is not None
    assert sms_segments(text) == 2


def test_the_send_deadline_is_the_answer_timeout_but_never_after_the_answer_is_due() -> None:
    assert send_deadline(now=NOW, answer_by=NOW + timedelta(hours=1), ack_timeout_s=120) == (
        NOW + timedelta(seconds=120)
    )
    assert send_deadline(now=NOW, answer_by=NOW + timedelta(seconds=60), ack_timeout_s=120) == (
        NOW + timedelta(seconds=60)
    )
    assert send_deadline(now=NOW, answer_by=NOW - timedelta(seconds=5), ack_timeout_s=120) == (
        NOW + timedelta(seconds=30)
    ), "a page already late still gets a short window"
