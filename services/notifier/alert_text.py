"""The text of a coordinator alert: the agency and the alert's message, in plain GSM-7 and at
most two segments. Pure."""

from __future__ import annotations

from services.notifier.page_text import ELLIPSIS, MAX_SEGMENTS, plain_gsm_text, sms_segments


def alert_text(agency: str, message: str) -> str:
    """`PST alert (kcmo): <message>`, the message cut short with `...` when it must be."""
    prefix = f"PST alert ({plain_gsm_text(agency)[:12]}): "
    words = plain_gsm_text(message) or "(no message)"
    if sms_segments(prefix + words) <= MAX_SEGMENTS:
        return prefix + words
    shortest, longest = 0, len(words)
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if sms_segments(prefix + words[:middle].rstrip() + ELLIPSIS) <= MAX_SEGMENTS:
            shortest = middle
        else:
            longest = middle - 1
    return prefix + words[:shortest].rstrip() + ELLIPSIS
