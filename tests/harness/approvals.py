"""A plain event for tests of the Kafka and outbox plumbing: which event it is does not matter
there, only that it parses and names its incident and member."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.events import ApprovalRecorded


def approval(incident_id: uuid.UUID, member: str) -> ApprovalRecorded:
    return ApprovalRecorded(
        occurred_at=datetime(2026, 11, 20, 22, 14, tzinfo=UTC),
        incident_id=incident_id,
        agency="kck",
        member_id=member,
        recorded_by="coordinator one",
    )
