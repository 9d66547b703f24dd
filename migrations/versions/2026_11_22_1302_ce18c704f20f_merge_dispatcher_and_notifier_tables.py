"""merge dispatcher and notifier tables

Revision ID: ce18c704f20f
Revises: a1d15a7c0001, b2e26b8d0001
Create Date: 2026-11-22 12:42:52.821763
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "ce18c704f20f"
down_revision: str | Sequence[str] | None = ("a1d15a7c0001", "b2e26b8d0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
