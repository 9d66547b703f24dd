"""The notifier's tables: its own outbox of pages (one row per message or call to send), the
withdrawals it must remember, opt-outs, automatic replies sent, per-number send slots, the
contact-log exchanges by SMS, and the roster phones' confirmation codes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base


class NotifierPage(Base):
    """One SMS or call to one phone: a page for an assignment (kind `page`), a coordinator
    alert (kind `alert`), an SMS that asks for no answer (kind `notice`: the team was stood
    down), one SMS of a contact-log exchange (kind `contact`: a question, its help, a thank
    you; tied to no assignment or incident) or a roster phone's confirmation code (kind
    `confirm`, with the member's id; closed, its text without the code, once the code stops
    working). Sent by the sender loop; only pages are answered,
    by replies and keypresses.

    `state` is the sending side (see `page_states.SendState`); `twilio_status` is the latest
    status Twilio reported, applied only forward by `twilio_status_rank`; `answer` and
    `closed_at` say whether the page still waits for an answer.
    """

    __tablename__ = "notifier_pages"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    agency: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    incident_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    member_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(4))
    body: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    remind_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    send_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sending_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    twilio_status: Mapped[str | None] = mapped_column(String(16))
    twilio_status_rank: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str | None] = mapped_column(String(8))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("assignment_id", "channel", "kind"),
        UniqueConstraint("alert_id", "phone"),
        Index(
            "ix_notifier_pages_due",
            "channel",
            "send_after",
            postgresql_where=text("state = 'queued'"),
        ),
        Index(
            "ix_notifier_pages_sending",
            "sending_until",
            postgresql_where=text("state = 'sending'"),
        ),
        Index("ix_notifier_pages_open_phone", "phone", postgresql_where=text("closed_at IS NULL")),
        Index("ix_notifier_pages_agency_created", "agency", "created_at"),
    )


class PageWithdrawal(Base):
    """The dispatcher withdrew the assignment's page; kept so a withdrawal that arrives before
    its page request still closes the page."""

    __tablename__ = "notifier_withdrawals"

    assignment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OptOut(Base):
    """A number that sent STOP (or that Twilio refused as unsubscribed): never sent an SMS."""

    __tablename__ = "notifier_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutoReply(Base):
    """A help or "page closed" reply sent to a number: the rate rule reads these."""

    __tablename__ = "notifier_auto_replies"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notifier_auto_replies_phone_sent_at", "phone", "sent_at"),)


class SenderSlot(Base):
    """When a sending number may next send on a channel: the per-number rate limit, shared by
    every notifier process."""

    __tablename__ = "notifier_sender_slots"

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_free_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactLog(Base):
    """One contact-log exchange by SMS (`contact_logs`): for an accepted assignment that ended
    (source `incident`, unique per assignment: a redelivered invitation adds nothing) or asked
    for by the specialist (`direct`, no assignment).

    `waiting` behind the phone's open exchange, then `open` (at most one per phone) with the
    question it waits for (`step`), the answers taken so far as parsed values only, the SHA-256
    of its form's one-use token and when it expires; then ended: `logged`, `nothing` (0
    people), `skipped` or `expired`. An ended row keeps no answer, token or phone (the check
    constraint holds it): what was logged is in the `ContactLogged` event alone, which names
    neither the row nor the assignment.
    """

    __tablename__ = "notifier_contact_logs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    overtime_eligible: Mapped[bool] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(8))
    step: Mapped[str | None] = mapped_column(String(8))
    people: Mapped[int | None] = mapped_column(SmallInteger)
    kind: Mapped[str | None] = mapped_column(String(8))
    referral: Mapped[str | None] = mapped_column(String(8))
    form_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_page_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The SMS that carries the form's link, whose stored text loses the link at the end."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("source IN ('incident', 'direct')", name="known_source"),
        CheckConstraint(
            "state IN ('waiting', 'open', 'logged', 'nothing', 'skipped', 'expired')",
            name="known_state",
        ),
        CheckConstraint(
            "state = 'open' OR (step IS NULL AND people IS NULL AND kind IS NULL"
            " AND referral IS NULL AND form_token_hash IS NULL AND expires_at IS NULL)",
            name="answers_only_while_open",
        ),
        CheckConstraint(
            "state IN ('waiting', 'open') OR (phone IS NULL AND link_page_id IS NULL)",
            name="no_phone_once_ended",
        ),
        Index(
            "ix_notifier_contact_logs_live_phone",
            "phone",
            "created_at",
            postgresql_where=text("state IN ('waiting', 'open')"),
        ),
        Index(
            "uq_notifier_contact_logs_open_phone",
            "phone",
            unique=True,
            postgresql_where=text("state = 'open'"),
        ),
        Index(
            "ix_notifier_contact_logs_expiring",
            "expires_at",
            postgresql_where=text("state = 'open'"),
        ),
    )


class PhoneVerification(Base):
    """A roster phone's confirmation code (`phone_confirmations`), one per member and number: a
    new request replaces the code and its count of wrong attempts. Only the code's SHA-256
    (`phone_confirmations.code_hash`) is kept; `sent_at` is when its SMS was queued in the
    outbox of pages. Live while unverified, requested less than 72 hours ago and with fewer
    than 5 wrong attempts; an unverified row older than that is deleted by the SMS sender's
    sweep. (The table is created by the roster's lifecycle migration.)"""

    __tablename__ = "phone_verifications"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_phone_verifications_phone", "phone"),)


PAGES = cast(Table, NotifierPage.__table__)
"""The pages' table, for the Core statements of the hot paths (no ORM unit of work there)."""
WITHDRAWALS = cast(Table, PageWithdrawal.__table__)
OPT_OUTS = cast(Table, OptOut.__table__)
SENDER_SLOTS = cast(Table, SenderSlot.__table__)
CONTACT_LOGS = cast(Table, ContactLog.__table__)
VERIFICATIONS = cast(Table, PhoneVerification.__table__)
