"""The roster: each agency's specialists (CONTRACT §5) and their life on the team (issue 14).

Written through `shared.roster` functions (intake's API and import, the console, the notifier's
phone confirmation and availability keywords); read by the dispatcher and the console.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base


class RosterEntry(Base):
    __tablename__ = "roster_entries"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(32))
    status_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    on_duty: Mapped[bool] = mapped_column(Boolean)
    on_call: Mapped[bool] = mapped_column(Boolean)
    off_call_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Off call until then (`OFF 8H` by SMS), whatever `on_call` says."""
    training_valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Derived from the training records by the policy's rule; None: no credit at all."""
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When `phone` answered its code; None: never paged until it does."""
    under_investigation: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(35)), default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RosterTransition(Base):
    """One step of a member's life on the team: who recorded it, when, why, and the document."""

    __tablename__ = "roster_transitions"
    __table_args__ = (Index("ix_roster_transitions_member", "agency", "member_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    """The order steps were recorded in (several may share a moment)."""
    agency: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(40))
    """The lifecycle step's id; `recorded` (a roster file brought the member in) or
    `left_out` (a roster file no longer lists them)."""
    from_status: Mapped[str] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))
    """console, api or command."""
    reason: Mapped[str] = mapped_column(String(200))
    document: Mapped[str | None] = mapped_column(String(120))
    checks: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    grounds: Mapped[str | None] = mapped_column(String(40))


class TrainingSession(Base):
    """A training held: its local date and topics (no notes: nothing said there is kept)."""

    __tablename__ = "training_sessions"
    __table_args__ = (Index("ix_training_sessions_agency", "agency", "held_on"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(120))
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class TrainingAttendance(Base):
    """A member at a session: attended, or excused by a memo the committee approved (830
    §IV.E.3.f), whose reference is kept."""

    __tablename__ = "training_attendance"
    __table_args__ = (Index("ix_training_attendance_member", "agency", "member_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str | None] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))


class RosterReview(Base):
    """A review the third failure to assist within twelve months opened (FOP #4 §E.4.d), and
    the coordinator's recorded decision."""

    __tablename__ = "roster_reviews"
    __table_args__ = (Index("ix_roster_reviews_agency", "agency", "opened_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    alert_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(16))
    """`keep` or `remove` (the removal is then its own recorded step)."""
    reason: Mapped[str | None] = mapped_column(String(200))


class TrainingNotice(Base):
    """The coordinators were told that this member's training lapses at `valid_until`."""

    __tablename__ = "training_notices"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DirectoryLink(Base):
    """The agency's directory link (830 §IV.D.3.i): whoever has it sees the list; rotating it
    ends the old one. Who opens it is never recorded."""

    __tablename__ = "directory_links"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_by: Mapped[str] = mapped_column(String(200))
