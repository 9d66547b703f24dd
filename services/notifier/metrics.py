"""The notifier's Prometheus counters."""

from __future__ import annotations

from prometheus_client import Counter

SEND_ATTEMPTS = Counter(
    "pst_notifier_send_attempts_total",
    "Requests to Twilio to create a message or call, by channel and result",
    ["channel", "result"],
)
OUTCOMES = Counter(
    "pst_notifier_outcomes_total",
    "Page outcomes reported to the dispatcher, by channel and outcome",
    ["channel", "outcome"],
)
INBOUND = Counter(
    "pst_notifier_inbound_total",
    "Inbound SMS, keypresses and status callbacks, by kind",
    ["kind"],
)
NOT_SENT = Counter(
    "pst_notifier_not_sent_total",
    "Pages and alerts kept unsent because Twilio is not configured",
    ["channel"],
)
