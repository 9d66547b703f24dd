"""A page's states, and what Twilio's status callbacks mean for it. Pure.

A page row has two sides. The sending side (`SendState`) is ours: queued → sending → sent, or
one of the ends. The delivery side is Twilio's status, applied only forward: every status has a
rank, and a callback whose rank is not above the row's current one changes nothing, so callbacks
arriving late or twice never move a page backwards nor report an outcome twice.
"""

from __future__ import annotations

from enum import StrEnum

from shared.events import PageOutcome


class SendState(StrEnum):
    QUEUED = "queued"  # waiting for its send time and a free slot of the sending number
    SENDING = "sending"  # claimed: the request to Twilio is (or was, before a crash) in flight
    SENT = "sent"  # Twilio accepted it and gave a sid
    UNCERTAIN = "uncertain"  # Twilio may or may not have created it: never resent
    SEND_FAILED = "send_failed"  # a permanent error (invalid number, ...)
    OPTED_OUT = "opted_out"  # the number is opted out of SMS: not sent
    EXPIRED = "expired"  # never accepted by Twilio before its send deadline (rate limited)
    CANCELLED = "cancelled"  # withdrawn before it was sent
    NOT_SENT = "not_sent"  # Twilio is not configured: kept for the coordinators to read


class PageKind(StrEnum):
    PAGE = "page"  # to a specialist, for an assignment
    ALERT = "alert"  # to a coordinator or manager
    NOTICE = "notice"  # to a specialist, for an assignment, asking for no answer (stood down)
    CONTACT = "contact"  # to a specialist: one SMS of a contact-log exchange (`contact_logs`)
    CONFIRM = "confirm"  # to a roster phone: its confirmation code (`phone_confirmations`)


class Answer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def outcome(self) -> PageOutcome:
        return "accepted" if self is Answer.ACCEPTED else "declined"


ANSWERABLE_STATES = frozenset(
    {SendState.SENDING, SendState.SENT, SendState.UNCERTAIN, SendState.NOT_SENT}
)
"""States in which the specialist may have the page in hand, so a reply can answer it: a page
kept `not_sent` (Twilio not configured) is in the hands of the console's test phones."""

SMS_STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
"""Twilio's message statuses in the order they can happen; equal ranks exclude each other."""

CALL_STATUS_RANK = {
    "queued": 1,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    "answered": 4,
    "completed": 5,
    "busy": 5,
    "no-answer": 5,
    "failed": 5,
    "canceled": 5,
}
"""Twilio's call statuses in the order they can happen."""

UNSUBSCRIBED_RECIPIENT = "21610"
"""Twilio's error code for a recipient who replied STOP."""


def status_rank(channel: str, status: str) -> int | None:
    """The rank of a Twilio status on `channel`, or None for a status we do not know."""
    ranks = SMS_STATUS_RANK if channel == "sms" else CALL_STATUS_RANK
    return ranks.get(status.strip().lower())


def status_outcome(channel: str, status: str, error_code: str | None = None) -> PageOutcome | None:
    """The outcome a newly applied status reports to the dispatcher, if any.

    For a call, any end without a keypress is `call_unanswered`: the caller reports it only
    when the page has no answer.
    """
    status = status.strip().lower()
    if channel == "sms":
        if status == "delivered":
            return "delivered"
        if status in {"failed", "undelivered"}:
            return "opted_out" if error_code == UNSUBSCRIBED_RECIPIENT else "delivery_failed"
        return None
    if CALL_STATUS_RANK.get(status) == CALL_STATUS_RANK["completed"]:
        return "call_unanswered"
    return None
