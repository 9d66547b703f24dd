"""notifier contact logs: the contact-log exchanges by SMS (issue 13), one per ended assignment
(unique) or per LOG, at most one open per phone; answers only as parsed values and only while
open, no phone once ended. Their SMS are pages of kind `contact`.

Revision ID: f1c0a7e50001
Revises: e3b7f4a20001
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1c0a7e50001"
down_revision: str | Sequence[str] | None = "e3b7f4a20001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_contact_logs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("assignment_id", sa.UUID(), nullable=True),
        sa.Column("overtime_eligible", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=8), nullable=True),
        sa.Column("people", sa.SmallInteger(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("referral", sa.String(length=8), nullable=True),
        sa.Column("form_token_hash", sa.String(length=64), nullable=True),
        sa.Column("link_page_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('incident', 'direct')",
            name=op.f("ck_notifier_contact_logs_known_source"),
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'open', 'logged', 'nothing', 'skipped', 'expired')",
            name=op.f("ck_notifier_contact_logs_known_state"),
        ),
        sa.CheckConstraint(
            "state = 'open' OR (step IS NULL AND people IS NULL AND kind IS NULL"
            " AND referral IS NULL AND form_token_hash IS NULL AND expires_at IS NULL)",
            name=op.f("ck_notifier_contact_logs_answers_only_while_open"),
        ),
        sa.CheckConstraint(
            "state IN ('waiting', 'open') OR (phone IS NULL AND link_page_id IS NULL)",
            name=op.f("ck_notifier_contact_logs_no_phone_once_ended"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_contact_logs")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_notifier_contact_logs_assignment_id")),
        sa.UniqueConstraint(
            "form_token_hash", name=op.f("uq_notifier_contact_logs_form_token_hash")
        ),
    )
    op.create_index(
        "ix_notifier_contact_logs_live_phone",
        "notifier_contact_logs",
        ["phone", "created_at"],
        unique=False,
        postgresql_where=sa.text("state IN ('waiting', 'open')"),
    )
    op.create_index(
        "uq_notifier_contact_logs_open_phone",
        "notifier_contact_logs",
        ["phone"],
        unique=True,
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_index(
        "ix_notifier_contact_logs_expiring",
        "notifier_contact_logs",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifier_pages WHERE kind = 'contact'")
    op.drop_index(
        "ix_notifier_contact_logs_expiring",
        table_name="notifier_contact_logs",
        postgresql_where=sa.text("state = 'open'"),
    )
    op.drop_index(
        "uq_notifier_contact_logs_open_phone",
        table_name="notifier_contact_logs",
        postgresql_where=sa.text("state = 'open'"),
    )
    op.drop_index(
        "ix_notifier_contact_logs_live_phone",
        table_name="notifier_contact_logs",
        postgresql_where=sa.text("state IN ('waiting', 'open')"),
    )
    op.drop_table("notifier_contact_logs")
