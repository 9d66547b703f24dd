"""A page row as the sender sees it, for the tests of its rules and of its statements."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.notifier.sending_rows import SendingRow

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)

SENDING = SendingRow(
    id=uuid.uuid4(),
    kind="page",
    channel="sms",
    agency="kcmo",
    assignment_id=uuid.uuid4(),
    incident_id=uuid.uuid4(),
    member_id="M-111",
    phone="+18165550111",
    body="a page",
    state="sending",
    attempts=1,
    send_after=NOW,
    send_deadline=NOW + timedelta(minutes=2),
    sending_until=NOW + timedelta(seconds=40),
    last_error=None,
    twilio_sid=None,
    twilio_status_rank=0,
    sent_at=None,
    closed_at=None,
)
"""A page as a claim marked it `sending`."""
