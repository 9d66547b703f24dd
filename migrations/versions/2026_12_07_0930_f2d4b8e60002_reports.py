"""reports (issue 13): logged contacts as counts, overtime call-outs, expenses; what the
console's read model keeps for statistics (first report time, paged, called, accepted); the
dispatcher's `contact_log` timer

Revision ID: f2d4b8e60002
Revises: f1c0a7e50001
Create Date: 2026-12-07 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f2d4b8e60002"
down_revision: str | Sequence[str] | None = "f1c0a7e50001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_contacts",
        sa.Column("contact_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("referral", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.CheckConstraint(
            "source IN ('incident', 'direct')", name=op.f("ck_report_contacts_known_source")
        ),
        sa.CheckConstraint(
            "kind IN ('member', 'family')", name=op.f("ck_report_contacts_known_kind")
        ),
        sa.CheckConstraint(
            "referral IN ('eap', 'mhp', 'other', 'none')",
            name=op.f("ck_report_contacts_known_referral"),
        ),
        sa.CheckConstraint("people >= 1 AND hours >= 0", name=op.f("ck_report_contacts_sensible")),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_report_contacts")),
    )
    op.create_index("ix_report_contacts_month", "report_contacts", ["agency", "month"])
    op.create_table(
        "report_overtime",
        sa.Column("assignment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hours", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_report_overtime")),
    )
    op.create_index("ix_report_overtime_agency", "report_overtime", ["agency", "accepted_at"])
    op.create_table(
        "report_expenses",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_report_expenses_positive")),
        sa.CheckConstraint(
            "category IN ('training', 'travel', 'meals', 'lodging', 'supplies', 'other')",
            name=op.f("ck_report_expenses_known_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_expenses")),
    )
    op.create_index("ix_report_expenses_agency", "report_expenses", ["agency", "spent_on"])

    op.add_column(
        "incidents", sa.Column("facts_purged_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "console_incidents",
        sa.Column("first_reported_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute("UPDATE console_incidents SET first_reported_at = reported_at")
    op.create_index(
        "ix_console_incidents_reported", "console_incidents", ["agency", "first_reported_at"]
    )
    for column in ("paged", "called"):
        op.add_column(
            "console_assignments",
            sa.Column(column, sa.Boolean(), server_default="false", nullable=False),
        )
    op.add_column(
        "console_assignments",
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(
        "UPDATE console_assignments SET paged = state_rank >= 2 AND state <> 'cancelled', "
        "called = channel = 'call', "
        "accepted_at = CASE WHEN state = 'accepted' THEN updated_at END"
    )

    op.drop_constraint(op.f("ck_dispatcher_timers_known_kind"), "dispatcher_timers", type_="check")
    op.create_check_constraint(
        op.f("ck_dispatcher_timers_known_kind"),
        "dispatcher_timers",
        "kind IN ('sms_timeout', 'call_timeout', 'contact_log')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM dispatcher_timers WHERE kind = 'contact_log'")
    op.drop_constraint(op.f("ck_dispatcher_timers_known_kind"), "dispatcher_timers", type_="check")
    op.create_check_constraint(
        op.f("ck_dispatcher_timers_known_kind"),
        "dispatcher_timers",
        "kind IN ('sms_timeout', 'call_timeout')",
    )
    op.drop_column("console_assignments", "accepted_at")
    op.drop_column("console_assignments", "called")
    op.drop_column("console_assignments", "paged")
    op.drop_index("ix_console_incidents_reported", table_name="console_incidents")
    op.drop_column("console_incidents", "first_reported_at")
    op.drop_column("incidents", "facts_purged_at")
    op.drop_index("ix_report_expenses_agency", table_name="report_expenses")
    op.drop_table("report_expenses")
    op.drop_index("ix_report_overtime_agency", table_name="report_overtime")
    op.drop_table("report_overtime")
    op.drop_index("ix_report_contacts_month", table_name="report_contacts")
    op.drop_table("report_contacts")
