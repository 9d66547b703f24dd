"""The manager's quarterly overtime report and the team's expenses (names allowed: payroll and
the Financial Services Unit need them; only the manager reads them).

830 §III.D.1: overtime may be granted when the PST Manager activates a specialist; the
dispatcher marks those assignments `overtime_eligible`. FOP #4 §F.3: kck members never receive
overtime, so its report says so and lists nobody. §IV.B.2.f asks for the quarterly overtime
report to the Executive Committee: its aggregate is counts and hours, with no names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.tables import ROSTER
from services.reports.models import EXPENSE_CATEGORIES, EXPENSES, OVERTIME, Expense
from services.reports.periods import Quarter
from shared.policy.model import AgencyConfig, OvertimeRule


class BadExpense(ValueError):
    """An expense that cannot be recorded; says which field is wrong."""


@dataclass(frozen=True, slots=True)
class OvertimeLine:
    member_id: str
    name: str
    accepted_at: datetime
    ended_at: datetime | None
    hours_logged: Decimal | None

    @property
    def call_out_hours(self) -> Decimal | None:
        """From acceptance to the call-out's end, to the quarter hour."""
        if self.ended_at is None:
            return None
        seconds = (self.ended_at - self.accepted_at).total_seconds()
        return Decimal(round(seconds / 900) * 25) / 100


@dataclass(frozen=True, slots=True)
class ExpenseLine:
    spent_on: date
    category: str
    amount_cents: int
    note: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class OvertimeReport:
    quarter: Quarter
    eligible: bool
    grounds: str
    lines: tuple[OvertimeLine, ...]
    expenses: tuple[ExpenseLine, ...]

    @property
    def call_outs(self) -> int:
        return len(self.lines)

    @property
    def hours_logged(self) -> Decimal:
        return sum((line.hours_logged or Decimal(0) for line in self.lines), Decimal(0))

    @property
    def specialists(self) -> int:
        return len({line.member_id for line in self.lines})

    @property
    def expenses_cents(self) -> int:
        return sum(expense.amount_cents for expense in self.expenses)

    def by_category(self) -> list[tuple[str, int]]:
        totals = dict.fromkeys(EXPENSE_CATEGORIES, 0)
        for expense in self.expenses:
            totals[expense.category] += expense.amount_cents
        return [(category, cents) for category, cents in totals.items() if cents]


async def overtime_report(
    session: AsyncSession, agency: AgencyConfig, quarter: Quarter
) -> OvertimeReport:
    zone = agency.zone
    start, end = quarter.start(zone), quarter.end(zone)
    eligible = agency.overtime.rule is not OvertimeRule.NEVER
    rows = await session.execute(
        select(
            OVERTIME.c.member_id,
            ROSTER.c.name,
            OVERTIME.c.accepted_at,
            OVERTIME.c.ended_at,
            OVERTIME.c.hours,
        )
        .select_from(
            OVERTIME.outerjoin(
                ROSTER,
                and_(
                    ROSTER.c.agency == OVERTIME.c.agency,
                    ROSTER.c.member_id == OVERTIME.c.member_id,
                ),
            )
        )
        .where(
            OVERTIME.c.agency == agency.slug,
            OVERTIME.c.accepted_at >= start,
            OVERTIME.c.accepted_at < end,
        )
        .order_by(ROSTER.c.name, OVERTIME.c.member_id, OVERTIME.c.accepted_at)
    )
    lines = tuple(
        OvertimeLine(
            member_id=row.member_id,
            name=row.name or "(no longer on the roster)",
            accepted_at=row.accepted_at,
            ended_at=row.ended_at,
            hours_logged=row.hours,
        )
        for row in rows
    )
    expenses = await session.execute(
        select(EXPENSES)
        .where(
            EXPENSES.c.agency == agency.slug,
            EXPENSES.c.spent_on >= start.date(),
            EXPENSES.c.spent_on < end.date(),
        )
        .order_by(EXPENSES.c.spent_on, EXPENSES.c.recorded_at)
    )
    return OvertimeReport(
        quarter=quarter,
        eligible=eligible,
        grounds=agency.overtime.grounds.cite(agency.policy),
        lines=lines if eligible else (),
        expenses=tuple(
            ExpenseLine(
                spent_on=row.spent_on,
                category=row.category,
                amount_cents=row.amount_cents,
                note=row.note,
                recorded_by=row.recorded_by,
            )
            for row in expenses
        ),
    )


def parse_amount(text: str) -> int:
    """ "12.50" or "$1,200" → cents; BadExpense when it is not a positive amount."""
    cleaned = text.strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except ArithmeticError:
        raise BadExpense(f"amount: {text!r} is not an amount in dollars, e.g. 42.50") from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1000000"):
        raise BadExpense("amount: give an amount above 0 and below 1,000,000 dollars")
    if amount != amount.quantize(Decimal("0.01")):
        raise BadExpense("amount: at most two decimals (cents)")
    return int(amount * 100)


async def record_expense(
    session: AsyncSession,
    agency: AgencyConfig,
    *,
    spent_on: date,
    category: str,
    amount_cents: int,
    note: str,
    recorded_by: str,
    now: datetime,
) -> uuid.UUID:
    if category not in EXPENSE_CATEGORIES:
        raise BadExpense(f"category: one of {', '.join(EXPENSE_CATEGORIES)}")
    if spent_on > now.astimezone(agency.zone).date():
        raise BadExpense("date: an expense cannot be in the future")
    if spent_on.year < 2000:
        raise BadExpense("date: before 2000")
    note = " ".join(note.split())
    if len(note) > 200:
        raise BadExpense("note: at most 200 characters")
    expense_id = uuid.uuid4()
    session.add(
        Expense(
            id=expense_id,
            agency=agency.slug,
            spent_on=spent_on,
            category=category,
            amount_cents=amount_cents,
            note=note,
            recorded_by=recorded_by,
            recorded_at=now,
        )
    )
    return expense_id
