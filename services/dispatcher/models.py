"""The dispatcher's own tables: escalation timers, approvals it has heard of, page outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base


class EscalationTimer(Base):
    """A moment at which an assignment escalates unless answered first (SMS → call → next).

    Rows, not sleeping tasks: a restart loses none. `fired_at` is set by the one transaction
    that fires it (`WHERE fired_at IS NULL`), so none fires twice; one row per kind and
    assignment (unique), so none is started twice.
    """

    __tablename__ = "dispatcher_timers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assignments.id")
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("assignment_id", "kind"),
        CheckConstraint(
            "kind IN ('sms_timeout', 'call_timeout', 'contact_log')", name="known_kind"
        ),
        Index(
            "ix_dispatcher_timers_pending_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
        ),
    )


class RecordedApproval(Base):
    """A coordinator recorded the Bureau Director consult for this member and incident (kck)."""

    __tablename__ = "dispatcher_approvals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    member_id: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("incident_id", "member_id"),)


class PageOutcomeRecord(Base):
    """Every outcome the notifier reported for a page, acted on or not (the audit trail)."""

    __tablename__ = "dispatcher_page_outcomes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    channel: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acted_on: Mapped[bool] = mapped_column(Boolean)
