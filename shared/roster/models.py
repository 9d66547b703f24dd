"""The roster: each agency's specialists (CONTRACT §5), written by intake, read by the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base


class RosterEntry(Base):
    __tablename__ = "roster_entries"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16))
    on_duty: Mapped[bool] = mapped_column(Boolean)
    on_call: Mapped[bool] = mapped_column(Boolean)
    training_current: Mapped[bool] = mapped_column(Boolean)
    under_investigation: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(35)), default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
