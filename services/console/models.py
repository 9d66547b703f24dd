"""The console's own tables: its read model (built from events by `projector`), its accounts
and sessions, and its audit log. No other service reads or writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base


class BoardIncident(Base):
    """One incident as the board shows it: its newest report and decision, open until closed."""

    __tablename__ = "console_incidents"

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the first revision came: what statistics time acceptances from, and count by."""
    reporter_role: Mapped[str | None] = mapped_column(String(32))
    decided_revision: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(String(32))
    activate: Mapped[bool] = mapped_column(Boolean, default=False)
    criteria: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    specialists: Mapped[int] = mapped_column(Integer, default=0)
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """Time, place and kind (shared.events.PageFacts): what the board shows of the incident."""
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_console_incidents_open",
            "agency",
            "created_at",
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_console_incidents_reported", "agency", "first_reported_at"),
    )


class BoardAssignment(Base):
    """One assignment's newest state, with when the next step happens if nobody answers."""

    __tablename__ = "console_assignments"

    assignment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    state_rank: Mapped[int] = mapped_column(Integer)
    """Applied only forward (see `projector.STATE_RANK`), so a late event never moves it back."""
    reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(8))
    next_step_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    called: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Paged by SMS, called, when accepted: what the statistics count (kept once set)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PageDelivery(Base):
    """The newest page outcome the notifier reported for an assignment (sent, delivered,
    delivery_failed, ...), kept apart because it may arrive before the assignment does."""

    __tablename__ = "console_deliveries"

    assignment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TimelineEntry(Base):
    """One line of an incident's timeline; the event that made it is kept once (`event_id`)."""

    __tablename__ = "console_timeline"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(48))
    text: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (Index("ix_console_timeline_incident", "incident_id", "at", "id"),)


class InboxAlert(Base):
    """A coordinator alert, until someone acknowledges it (who and when are kept)."""

    __tablename__ = "console_alerts"

    alert_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_console_alerts_agency", "agency", "raised_at"),)


class TestPhoneMessage(Base):
    """A message to or from a test phone while Twilio is not configured: what the service
    would have sent (from the notifier's events) and what a trainer answered as that phone."""

    __tablename__ = "console_test_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    agency: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(8))
    """`out`: the service to the phone; `in`: the phone to the service."""
    channel: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    page_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The notifier's page a message kept unsent was (a call's keys are pressed on it)."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_console_test_messages_phone", "agency", "phone", "at"),)


class ConsoleRequest(Base):
    """An incident a commander or supervisor reported with the console's form: theirs to
    follow ("the status of their own reports")."""

    __tablename__ = "console_requests"

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("console_users.id"), index=True
    )
    agency: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleUser(Base):
    """A console account: one agency, one role. The password is kept only as an Argon2 hash;
    the TOTP secret is needed to check codes, so it is kept, readable only by the console."""

    __tablename__ = "console_users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    totp_secret: Mapped[str] = mapped_column(String(64))
    last_totp_step: Mapped[int] = mapped_column(BigInteger, default=0)
    """The newest TOTP time step used, so a code is accepted once."""
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(Base):
    """A signed-in browser. Only the hash of the cookie's token is kept."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("console_users.id"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(16))


class ConsoleAuditEntry(Base):
    """Sign-ins, failures, lock-outs, and every action and read in the console."""

    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    agency: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
