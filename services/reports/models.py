"""The reports' own tables, written by the console's projector from events and by the manager.

`report_contacts` holds counts only: no name, no member, no incident, no free text, and the
local month instead of a time (830 §III.H, §IV.D.3.f). `report_overtime` names the specialist,
because payroll needs it (830 §III.D); it is read only by the manager. `report_expenses` is the
manager's record of the team's expenses (830 §IV.D.3.g, FOP #4 §D.2.i).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, Numeric, String, Table
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base

EXPENSE_CATEGORIES = ("training", "travel", "meals", "lodging", "supplies", "other")


class ReportContact(Base):
    """One logged contact, as counts (the `contact.logged` event, kept once by its id)."""

    __tablename__ = "report_contacts"

    contact_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    source: Mapped[str] = mapped_column(String(16))
    people: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    referral: Mapped[str] = mapped_column(String(16))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    __table_args__ = (
        CheckConstraint("source IN ('incident', 'direct')", name="known_source"),
        CheckConstraint("kind IN ('member', 'family')", name="known_kind"),
        CheckConstraint("referral IN ('eap', 'mhp', 'other', 'none')", name="known_referral"),
        CheckConstraint("people >= 1 AND hours >= 0", name="sensible"),
        Index("ix_report_contacts_month", "agency", "month"),
    )


class OvertimeEntry(Base):
    """An overtime-eligible call-out (830 §III.D.1): who, from acceptance to its end, and the
    hours the specialist gave when they logged them."""

    __tablename__ = "report_overtime"

    assignment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    __table_args__ = (Index("ix_report_overtime_agency", "agency", "accepted_at"),)


class Expense(Base):
    """An expense of the team, recorded by its manager."""

    __tablename__ = "report_expenses"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64))
    spent_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="positive"),
        CheckConstraint(
            "category IN (" + ", ".join(f"'{name}'" for name in EXPENSE_CATEGORIES) + ")",
            name="known_category",
        ),
        Index("ix_report_expenses_agency", "agency", "spent_on"),
    )


CONTACTS = cast(Table, ReportContact.__table__)
OVERTIME = cast(Table, OvertimeEntry.__table__)
EXPENSES = cast(Table, Expense.__table__)
