"""roster lifecycle (issue 14): statuses with their audited steps, training sessions and
attendance (training currency derived), failure reviews, training lapse notices, phone
confirmation, off-call windows, the directory link

Existing rosters keep paging: their phones count as confirmed (they were paged before), and a
member marked training-current gets a "carried over" training credit dated today.

Revision ID: a3c5e7f90003
Revises: f2d4b8e60002
Create Date: 2026-12-07 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a3c5e7f90003"
down_revision: str | Sequence[str] | None = "f2d4b8e60002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.alter_column("roster_entries", "status", type_=sa.String(length=32))
    op.add_column("roster_entries", sa.Column("status_since", _TZ, nullable=True))
    op.add_column("roster_entries", sa.Column("off_call_until", _TZ, nullable=True))
    op.add_column("roster_entries", sa.Column("training_valid_until", _TZ, nullable=True))
    op.add_column("roster_entries", sa.Column("phone_verified_at", _TZ, nullable=True))
    op.execute("UPDATE roster_entries SET status_since = updated_at, phone_verified_at = now()")
    op.alter_column("roster_entries", "status_since", nullable=False)

    op.create_table(
        "roster_transitions",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("document", sa.String(length=120), nullable=True),
        sa.Column("checks", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("grounds", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_transitions")),
    )
    op.create_index(
        "ix_roster_transitions_member", "roster_transitions", ["agency", "member_id", "at"]
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("topics", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    op.create_index("ix_training_sessions_agency", "training_sessions", ["agency", "held_on"])
    op.create_table(
        "training_attendance",
        sa.Column("session_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("memo", sa.String(length=120), nullable=True),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "outcome = 'attended' OR (outcome = 'excused' AND memo IS NOT NULL)",
            name=op.f("ck_training_attendance_excused_by_memo"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_attendance_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "member_id", name=op.f("pk_training_attendance")),
    )
    op.create_index("ix_training_attendance_member", "training_attendance", ["agency", "member_id"])
    op.create_table(
        "roster_reviews",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("opened_at", _TZ, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("decided_at", _TZ, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('keep', 'remove')",
            name=op.f("ck_roster_reviews_known_decision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_reviews")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_roster_reviews_alert_id")),
    )
    op.create_index("ix_roster_reviews_agency", "roster_reviews", ["agency", "opened_at"])
    op.create_table(
        "training_notices",
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("valid_until", _TZ, nullable=False),
        sa.Column("sent_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint(
            "agency", "member_id", "valid_until", name=op.f("pk_training_notices")
        ),
    )
    op.create_table(
        "directory_links",
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("rotated_at", _TZ, nullable=False),
        sa.Column("rotated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_directory_links")),
        sa.UniqueConstraint("token", name=op.f("uq_directory_links_token")),
    )
    op.create_table(
        "phone_verifications",
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", _TZ, nullable=False),
        sa.Column("sent_at", _TZ, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verified_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint(
            "agency", "member_id", "phone", name=op.f("pk_phone_verifications")
        ),
    )
    op.create_index("ix_phone_verifications_phone", "phone_verifications", ["phone"])

    # training credit carried over for those marked current before records were kept
    op.execute(
        """
        INSERT INTO training_sessions (id, agency, held_on, title, topics, created_at, created_by)
        SELECT gen_random_uuid(), agency, current_date,
               'Carried over: training current before records were kept', '{}', now(),
               'migration a3c5e7f90003'
        FROM roster_entries WHERE training_current GROUP BY agency
        """
    )
    op.execute(
        """
        INSERT INTO training_attendance
            (session_id, member_id, agency, outcome, memo, recorded_at, recorded_by)
        SELECT s.id, r.member_id, r.agency, 'attended', NULL, now(), 'migration a3c5e7f90003'
        FROM roster_entries r JOIN training_sessions s
          ON s.agency = r.agency AND s.created_by = 'migration a3c5e7f90003'
        WHERE r.training_current
        """
    )
    # provisional until the console recomputes it by the policy's rule: two quarters
    op.execute(
        """
        UPDATE roster_entries
        SET training_valid_until = date_trunc('quarter', now()) + interval '6 months'
        WHERE training_current
        """
    )
    op.drop_column("roster_entries", "training_current")


def downgrade() -> None:
    op.add_column(
        "roster_entries",
        sa.Column("training_current", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.execute(
        "UPDATE roster_entries SET training_current = coalesce(training_valid_until > now(), false)"
    )
    op.alter_column("roster_entries", "training_current", server_default=None)
    op.drop_index("ix_phone_verifications_phone", table_name="phone_verifications")
    op.drop_table("phone_verifications")
    op.drop_table("directory_links")
    op.drop_table("training_notices")
    op.drop_index("ix_roster_reviews_agency", table_name="roster_reviews")
    op.drop_table("roster_reviews")
    op.drop_index("ix_training_attendance_member", table_name="training_attendance")
    op.drop_table("training_attendance")
    op.drop_index("ix_training_sessions_agency", table_name="training_sessions")
    op.drop_table("training_sessions")
    op.drop_index("ix_roster_transitions_member", table_name="roster_transitions")
    op.drop_table("roster_transitions")
    for column in ("phone_verified_at", "training_valid_until", "off_call_until", "status_since"):
        op.drop_column("roster_entries", column)
    op.alter_column("roster_entries", "status", type_=sa.String(length=16))
