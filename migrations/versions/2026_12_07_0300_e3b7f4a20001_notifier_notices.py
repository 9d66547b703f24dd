"""notifier notices: an assignment may have, besides its page on each channel, one notice (an SMS
that asks for no answer, e.g. the team was stood down), so a page's uniqueness is per
(assignment, channel, kind)

Revision ID: e3b7f4a20001
Revises: c0e5a1e00001
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e3b7f4a20001"
down_revision: str | Sequence[str] | None = "c0e5a1e00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        op.f("uq_notifier_pages_assignment_id_channel"), "notifier_pages", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_notifier_pages_assignment_id_channel_kind"),
        "notifier_pages",
        ["assignment_id", "channel", "kind"],
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifier_pages WHERE kind = 'notice'")
    op.drop_constraint(
        op.f("uq_notifier_pages_assignment_id_channel_kind"), "notifier_pages", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_notifier_pages_assignment_id_channel"),
        "notifier_pages",
        ["assignment_id", "channel"],
    )
