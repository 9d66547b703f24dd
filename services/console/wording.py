"""How the console words states, outcomes and reasons for people (pure)."""

from __future__ import annotations

STATUS_WORDS = {
    "activate": "activate the team",
    "awaiting_consent": "waiting for the member's consent",
    "outside_area": "outside the team's area",
    "not_covered": "not an activation under the policy",
}

STATE_WORDS = {
    "awaiting_approval": "waiting for the Bureau Director consult",
    "paged": "paged by SMS",
    "calling": "being called",
    "accepted": "accepted",
    "declined": "declined",
    "timed_out": "did not answer",
    "cancelled": "cancelled",
}

NEXT_STEP_WORDS = {
    "paged": "call",
    "calling": "next specialist",
}
"""What the dispatcher does at an open assignment's `next_step_at` if nobody answers."""

OUTCOME_WORDS = {
    "sent": "sent",
    "delivered": "delivered",
    "delivery_failed": "could not be delivered",
    "send_failed": "could not be sent",
    "send_uncertain": "may not have been sent",
    "opted_out": "refused: the number opted out (STOP)",
    "call_unanswered": "not answered",
    "accepted": "answered: accepted",
    "declined": "answered: declined",
}

ALERT_REASON_WORDS = {
    "nobody_left": "nobody left to page",
    "approval_needed": "approval needed",
    "repeated_failures": "third failure to assist",
    "opted_out": "number opted out",
    "unreachable": "number unreachable",
    "unusable_report": "report could not be used",
    "manual_page_refused": "page by hand refused",
    "training_lapsing": "training lapses soon",
}


def status_text(status: str | None) -> str:
    if status is None:
        return "being decided"
    return STATUS_WORDS.get(status, status.replace("_", " "))


def state_text(state: str) -> str:
    return STATE_WORDS.get(state, state.replace("_", " "))


def alert_reason_text(reason: str) -> str:
    return ALERT_REASON_WORDS.get(reason, reason.replace("_", " "))


def assignment_text(member_id: str, state: str, reason: str | None, by: str | None) -> str:
    words = f"{member_id}: {state_text(state)}"
    if by:
        words += f" (asked for by {by})"
    if reason and state in ("timed_out", "cancelled", "declined"):
        words += f" ({reason.replace('_', ' ')})"
    return words


def outcome_text(member_id: str | None, channel: str, outcome: str) -> str:
    what = "SMS" if channel == "sms" else "Call"
    who = f" to {member_id}" if member_id else ""
    return f"{what}{who}: {OUTCOME_WORDS.get(outcome, outcome.replace('_', ' '))}"
