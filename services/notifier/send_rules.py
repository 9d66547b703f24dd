"""What the sender does with a page, as pure rules over its row. No I/O.

- When claimed: a row that must not be sent (closed, past its send deadline, to a number that
  opted out of SMS) is settled instead (the claim statement marks the others `sending`).
- When Twilio answered: `sent`, back to `queued` after a backoff (429), or settled as
  uncertain, refused or unsubscribed.
- When swept: a row left `sending` past its `sending_until` is uncertain (never resent); a
  queued row past its deadline is expired (or cancelled, when its page closed).

Each rule returns the row as it is to be written and the outcome to report, so the sender can
write a whole batch in one statement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.notifier.page_states import SendState
from services.notifier.sending_rows import SendingRow
from services.notifier.twilio_port import (
    Accepted,
    Refused,
    RetryLater,
    SendResult,
    Uncertain,
    Unsubscribed,
)
from shared.events import PageOutcome

LOST_IN_A_CRASH = "the notifier stopped while sending"
TOO_LATE = "not sent before its deadline"

_OUTCOME_OF: dict[SendState, PageOutcome] = {
    SendState.UNCERTAIN: "send_uncertain",
    SendState.SEND_FAILED: "send_failed",
    SendState.OPTED_OUT: "opted_out",
}


@dataclass(frozen=True, slots=True)
class Settled:
    """A row's new sending side, the outcome to report for it, and what to log."""

    row: SendingRow
    outcome: PageOutcome | None = None
    detail: str | None = None
    note: tuple[int, str] | None = None
    """(logging level, message) to log about this page, if anything."""
    opts_out: bool = False
    """Twilio said the number unsubscribed: record it as opted out."""


def unsendable(row: SendingRow, *, now: datetime, opted_out: bool) -> Settled | None:
    """How a claimed row that must not be sent is settled; None when it is to be sent."""
    if row.closed_at is not None:
        return Settled(replace(row, state=SendState.CANCELLED.value))
    if row.send_deadline <= now:
        return expired(row, TOO_LATE)
    if row.channel == "sms" and opted_out:
        return Settled(
            replace(row, state=SendState.OPTED_OUT.value),
            outcome="opted_out",
            detail="the number has opted out of SMS",
            note=(logging.INFO, "SMS not sent: the number has opted out"),
        )
    return None


def expired(row: SendingRow, detail: str) -> Settled:
    """Twilio never took the page before its deadline: an SMS is reported as failed (the
    dispatcher calls instead), a call as a failure to send (it moves on)."""
    return Settled(
        replace(row, state=SendState.EXPIRED.value, last_error=detail),
        outcome="delivery_failed" if row.channel == "sms" else "send_failed",
        detail=detail,
        note=(logging.WARNING, "page expired unsent"),
    )


def _ended(row: SendingRow, state: SendState, detail: str, note: str | None = None) -> Settled:
    """A page that Twilio did not (surely) take, and the outcome that tells the dispatcher."""
    return Settled(
        replace(row, state=state.value, last_error=detail),
        outcome=_OUTCOME_OF[state],
        detail=detail,
        note=(logging.WARNING, note) if note else None,
        opts_out=state == SendState.OPTED_OUT,
    )


def retry_backoff_s(attempts: int, *, first_s: float, max_s: float) -> float:
    """Doubling from `first_s` with each attempt made, at most `max_s`."""
    return float(min(max_s, first_s * 2 ** max(0, attempts - 1)))


def answered(
    row: SendingRow,
    result: SendResult,
    *,
    now: datetime,
    first_backoff_s: float,
    max_backoff_s: float,
) -> Settled:
    """What Twilio's answer makes of the row, as the claim marked it `sending`. (The record
    statement applies it only to a row still `sending`, and reports `sent` only for a call or
    an SMS whose delivery was not already called back: `sending_rows.record_answers`.)"""
    row = replace(row, sending_until=None)
    match result:
        case Accepted(sid=sid):
            sent = replace(row, state=SendState.SENT.value, sent_at=now, twilio_sid=sid)
            return Settled(sent, outcome="sent", detail=sid)
        case RetryLater(detail=detail, after_s=after_s):
            backoff = retry_backoff_s(row.attempts, first_s=first_backoff_s, max_s=max_backoff_s)
            retry_at = now + timedelta(seconds=max(backoff, after_s or 0.0))
            row = replace(row, last_error=detail)
            if retry_at >= row.send_deadline:
                return expired(row, f"{TOO_LATE}: {detail}")
            return Settled(replace(row, state=SendState.QUEUED.value, send_after=retry_at))
        case Uncertain(detail=detail):
            return _ended(
                row,
                SendState.UNCERTAIN,
                detail,
                "Twilio may or may not have the page; it is not resent",
            )
        case Refused(detail=detail):
            return _ended(row, SendState.SEND_FAILED, detail, "Twilio refused the page")
        case Unsubscribed(detail=detail):
            return _ended(row, SendState.OPTED_OUT, detail)


def swept(row: SendingRow) -> Settled:
    """A row left `sending` past its time, or queued past its deadline."""
    if row.state == SendState.SENDING:
        return _ended(replace(row, sending_until=None), SendState.UNCERTAIN, LOST_IN_A_CRASH)
    if row.closed_at is not None:
        return Settled(replace(row, state=SendState.CANCELLED.value))
    return expired(row, TOO_LATE)
