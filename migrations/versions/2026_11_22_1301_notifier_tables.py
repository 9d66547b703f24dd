"""notifier tables: pages (the notifier's own outbox of SMS and calls), withdrawals, opt-outs,
automatic replies and per-number send slots

A page is unique per (assignment, channel) and an alert per (alert, phone), so a redelivered
command never creates a second message; a Twilio sid belongs to one page.

Revision ID: b2e26b8d0001
Revises: 374cdb60757b
Create Date: 2026-11-22 13:01:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b2e26b8d0001"
down_revision: str | None = "374cdb60757b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_pages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.UUID(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("alert_id", sa.UUID(), nullable=True),
        sa.Column("member_id", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("remind_supervisor", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("twilio_sid", sa.String(length=64), nullable=True),
        sa.Column("twilio_status", sa.String(length=16), nullable=True),
        sa.Column("twilio_status_rank", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_pages")),
        sa.UniqueConstraint("alert_id", "phone", name=op.f("uq_notifier_pages_alert_id_phone")),
        sa.UniqueConstraint(
            "assignment_id", "channel", name=op.f("uq_notifier_pages_assignment_id_channel")
        ),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_notifier_pages_twilio_sid")),
    )
    op.create_index(
        "ix_notifier_pages_agency_created",
        "notifier_pages",
        ["agency", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_notifier_pages_due",
        "notifier_pages",
        ["channel", "send_after"],
        unique=False,
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.create_index(
        "ix_notifier_pages_open_phone",
        "notifier_pages",
        ["phone"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_notifier_pages_sending",
        "notifier_pages",
        ["sending_until"],
        unique=False,
        postgresql_where=sa.text("state = 'sending'"),
    )
    op.create_table(
        "notifier_withdrawals",
        sa.Column("assignment_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_notifier_withdrawals")),
    )
    op.create_table(
        "notifier_opt_outs",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_notifier_opt_outs")),
    )
    op.create_table(
        "notifier_auto_replies",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_auto_replies")),
    )
    op.create_index(
        "ix_notifier_auto_replies_phone_sent_at",
        "notifier_auto_replies",
        ["phone", "sent_at"],
        unique=False,
    )
    op.create_table(
        "notifier_sender_slots",
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("next_free_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_notifier_sender_slots")),
    )


def downgrade() -> None:
    op.drop_table("notifier_sender_slots")
    op.drop_index("ix_notifier_auto_replies_phone_sent_at", table_name="notifier_auto_replies")
    op.drop_table("notifier_auto_replies")
    op.drop_table("notifier_opt_outs")
    op.drop_table("notifier_withdrawals")
    op.drop_index("ix_notifier_pages_sending", table_name="notifier_pages")
    op.drop_index("ix_notifier_pages_open_phone", table_name="notifier_pages")
    op.drop_index("ix_notifier_pages_due", table_name="notifier_pages")
    op.drop_index("ix_notifier_pages_agency_created", table_name="notifier_pages")
    op.drop_table("notifier_pages")
