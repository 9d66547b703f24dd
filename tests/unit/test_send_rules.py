"""The sender's rules over one page row: what a claim, Twilio's answer and a sweep make of it.
Pure: no servers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.notifier.send_rules import (
    LOST_IN_A_CRASH,
    Settled,
    answered,
    retry_backoff_s,
    swept,
    unsendable,
)
from services.notifier.sending_rows import SendingRow
from services.notifier.twilio_port import (
    Accepted,
    Refused,
    RetryLater,
    SendResult,
    Uncertain,
    Unsubscribed,
)
from tests.harness.sending_rows import NOW
from tests.harness.sending_rows import SENDING as ROW


def after(result: SendResult, row: SendingRow = ROW) -> Settled:
    return answered(row, result, now=NOW, first_backoff_s=1.0, max_backoff_s=30.0)


def test_an_accepted_page_is_sent_with_its_sid_and_reports_sent() -> None:
    settled = after(Accepted(sid="SM1"))
    assert (settled.row.state, settled.row.twilio_sid, settled.row.sent_at) == ("sent", "SM1", NOW)
    assert settled.row.sending_until is None
    assert (settled.outcome, settled.detail) == ("sent", "SM1")


@pytest.mark.parametrize(
    ("result", "state", "outcome", "opts_out"),
    [
        (Uncertain("Twilio answered 500 (20500)"), "uncertain", "send_uncertain", False),
        (Refused("21211", "21211 invalid number"), "send_failed", "send_failed", False),
        (Unsubscribed("21610 unsubscribed"), "opted_out", "opted_out", True),
    ],
)
def test_a_page_twilio_did_not_surely_take_ends_and_says_why(
    result: SendResult, state: str, outcome: str, opts_out: bool
) -> None:
    settled = after(result)
    assert (settled.row.state, settled.outcome, settled.opts_out) == (state, outcome, opts_out)
    assert settled.row.last_error == settled.detail
    assert settled.row.sending_until is None


def test_a_429_queues_the_page_again_after_its_backoff_or_its_retry_after() -> None:
    settled = after(RetryLater("429", after_s=None), replace(ROW, attempts=3))
    assert (settled.row.state, settled.row.send_after) == ("queued", NOW + timedelta(seconds=4))
    assert (settled.outcome, settled.row.last_error) == (None, "429")
    later = after(RetryLater("429", after_s=9))
    assert later.row.send_after == NOW + timedelta(seconds=9)


def test_a_429_past_the_send_deadline_expires_the_page() -> None:
    settled = after(RetryLater("429", after_s=600))
    assert (settled.row.state, settled.outcome) == ("expired", "delivery_failed")
    assert settled.detail == "not sent before its deadline: 429"
    call = after(RetryLater("429", after_s=600), replace(ROW, channel="call"))
    assert call.outcome == "send_failed"


def test_the_backoff_doubles_up_to_its_maximum() -> None:
    assert [retry_backoff_s(n, first_s=1, max_s=30) for n in range(1, 8)] == [
        1,
        2,
        4,
        8,
        16,
        30,
        30,
    ]


def test_a_claimed_page_that_must_not_be_sent_is_settled() -> None:
    queued = replace(ROW, state="queued", attempts=0, sending_until=None)
    assert unsendable(queued, now=NOW, opted_out=False) is None
    closed = unsendable(replace(queued, closed_at=NOW), now=NOW, opted_out=True)
    assert closed is not None and (closed.row.state, closed.outcome) == ("cancelled", None)
    late = unsendable(queued, now=queued.send_deadline, opted_out=False)
    assert late is not None and (late.row.state, late.outcome) == ("expired", "delivery_failed")
    opted_out = unsendable(queued, now=NOW, opted_out=True)
    assert opted_out is not None
    assert (opted_out.row.state, opted_out.outcome) == ("opted_out", "opted_out")
    assert unsendable(replace(queued, channel="call"), now=NOW, opted_out=True) is None, (
        "an opted-out number may still be called"
    )


def test_a_sweep_makes_a_lost_send_uncertain_and_a_late_page_expired_or_cancelled() -> None:
    lost = swept(ROW)
    assert (lost.row.state, lost.row.sending_until, lost.outcome) == (
        "uncertain",
        None,
        "send_uncertain",
    )
    assert lost.detail == LOST_IN_A_CRASH
    queued = replace(ROW, state="queued", sending_until=None)
    assert swept(queued).row.state == "expired"
    assert swept(replace(queued, closed_at=NOW)).row.state == "cancelled"
