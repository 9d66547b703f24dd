"""dispatcher tables: decisions, assignments, coordinator alerts, timers, approvals, outcomes

At most N open assignments per incident and one per specialist are enforced here (the partial
unique index on open slots, the slot cap check, unique incident and member), not only in code.

Revision ID: a1d15a7c0001
Revises: 374cdb60757b
Create Date: 2026-11-22 12:29:05.461514
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1d15a7c0001"
down_revision: str | None = "374cdb60757b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activation_decisions",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("activate", sa.Boolean(), nullable=False),
        sa.Column("criteria", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("specialists", sa.Integer(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reporter_role", sa.String(length=32), nullable=False),
        sa.Column("page_facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("involved_member_ids", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("alerted_shortfall", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "specialists >= 0", name=op.f("ck_activation_decisions_specialists_not_negative")
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_activation_decisions")),
    )
    op.create_index(
        op.f("ix_activation_decisions_agency"), "activation_decisions", ["agency"], unique=False
    )
    op.create_table(
        "coordinator_alerts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_coordinator_alerts_dedupe_key")),
    )
    op.create_index(
        op.f("ix_coordinator_alerts_agency"), "coordinator_alerts", ["agency"], unique=False
    )
    op.create_table(
        "dispatcher_approvals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatcher_approvals")),
        sa.UniqueConstraint(
            "incident_id", "member_id", name=op.f("uq_dispatcher_approvals_incident_id_member_id")
        ),
    )
    op.create_table(
        "dispatcher_page_outcomes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("assignment_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acted_on", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatcher_page_outcomes")),
        sa.UniqueConstraint("event_id", name=op.f("uq_dispatcher_page_outcomes_event_id")),
    )
    op.create_index(
        op.f("ix_dispatcher_page_outcomes_assignment_id"),
        "dispatcher_page_outcomes",
        ["assignment_id"],
        unique=False,
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("slot_cap", sa.Integer(), nullable=False),
        sa.Column("overtime_eligible", sa.Boolean(), nullable=False),
        sa.Column("remind_supervisor", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('awaiting_approval', 'paged', 'calling', 'accepted', "
            "'declined', 'timed_out', 'cancelled')",
            name=op.f("ck_assignments_known_state"),
        ),
        sa.CheckConstraint(
            "slot >= 1 AND slot <= slot_cap", name=op.f("ck_assignments_slot_within_cap")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["activation_decisions.incident_id"],
            name=op.f("fk_assignments_incident_id_activation_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "incident_id", "member_id", name=op.f("uq_assignments_incident_id_member_id")
        ),
    )
    op.create_index(
        "ix_assignments_member", "assignments", ["agency", "member_id", "state"], unique=False
    )
    op.create_index(
        "uq_assignments_open_slot",
        "assignments",
        ["incident_id", "slot"],
        unique=True,
        postgresql_where=sa.text("state IN ('awaiting_approval', 'paged', 'calling', 'accepted')"),
    )
    op.create_table(
        "dispatcher_timers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("assignment_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('sms_timeout', 'call_timeout')", name=op.f("ck_dispatcher_timers_known_kind")
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_dispatcher_timers_assignment_id_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatcher_timers")),
        sa.UniqueConstraint(
            "assignment_id", "kind", name=op.f("uq_dispatcher_timers_assignment_id_kind")
        ),
    )
    op.create_index(
        "ix_dispatcher_timers_pending_due",
        "dispatcher_timers",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_dispatcher_timers_pending_due",
        table_name="dispatcher_timers",
        postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL"),
    )
    op.drop_table("dispatcher_timers")
    op.drop_index(
        "uq_assignments_open_slot",
        table_name="assignments",
        postgresql_where=sa.text("state IN ('awaiting_approval', 'paged', 'calling', 'accepted')"),
    )
    op.drop_index("ix_assignments_member", table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(
        op.f("ix_dispatcher_page_outcomes_assignment_id"), table_name="dispatcher_page_outcomes"
    )
    op.drop_table("dispatcher_page_outcomes")
    op.drop_table("dispatcher_approvals")
    op.drop_index(op.f("ix_coordinator_alerts_agency"), table_name="coordinator_alerts")
    op.drop_table("coordinator_alerts")
    op.drop_index(op.f("ix_activation_decisions_agency"), table_name="activation_decisions")
    op.drop_table("activation_decisions")
