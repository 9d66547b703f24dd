"""The manager's overtime report and expenses against the real PostgreSQL: call-outs and their
hours in any order, kck's none, and expenses that are refused with why and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.console.projection_consumer import ProjectionHandler
from services.reports.overtime import BadExpense, overtime_report, parse_amount, record_expense
from services.reports.periods import Quarter
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import ContactLogInvited, OvertimeHoursLogged
from shared.policy import load_registry

REGISTRY = load_registry()
ACCEPTED = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
Q4 = Quarter(2026, 4)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = build_engine(database_url, pool_size=2)
    yield build_session_factory(engine)
    await engine.dispose()


def _call_out(
    agency: str, member: str, eligible: bool
) -> tuple[ContactLogInvited, OvertimeHoursLogged]:
    assignment = uuid.uuid4()
    invited = ContactLogInvited(
        occurred_at=ACCEPTED + timedelta(hours=3),
        assignment_id=assignment,
        incident_id=uuid.uuid4(),
        agency=agency,
        member_id=member,
        phone="+18165550111",
        accepted_at=ACCEPTED,
        ended_at=ACCEPTED + timedelta(hours=3, minutes=10),
        overtime_eligible=eligible,
    )
    hours = OvertimeHoursLogged(
        occurred_at=ACCEPTED + timedelta(hours=4),
        assignment_id=assignment,
        agency=agency,
        hours=2.75,
    )
    return invited, hours


async def test_overtime_call_outs_with_their_hours_whatever_the_order(
    sessions: SessionFactory,
) -> None:
    handler = ProjectionHandler(sessions)
    first, first_hours = _call_out("kcmo", "M0001", True)
    second, second_hours = _call_out("kcmo", "M0002", True)
    not_eligible, _ = _call_out("kcmo", "M0003", False)
    await handler.handle_batch([first, first_hours, second_hours, second, not_eligible])
    await handler.handle_batch([first, second_hours])  # redelivered: nothing changes
    async with unit_of_work(sessions) as session:
        report = await overtime_report(session, REGISTRY.get("kcmo"), Q4)
        earlier = await overtime_report(session, REGISTRY.get("kcmo"), Quarter(2026, 3))
    assert report.eligible and report.grounds == "830 §III.D.1"
    assert [line.member_id for line in report.lines] == ["M0001", "M0002"]
    assert all(line.hours_logged == Decimal("2.75") for line in report.lines)
    assert report.lines[0].call_out_hours == Decimal("3.25")
    assert (report.call_outs, report.specialists, report.hours_logged) == (2, 2, Decimal("5.50"))
    assert earlier.lines == ()


async def test_kck_pays_no_overtime(sessions: SessionFactory) -> None:
    invited, hours = _call_out("kck", "K0001", True)
    await ProjectionHandler(sessions).handle_batch([invited, hours])
    async with unit_of_work(sessions) as session:
        report = await overtime_report(session, REGISTRY.get("kck"), Q4)
    assert not report.eligible and report.lines == ()
    assert "F.3" in report.grounds


async def test_expenses_are_summed_and_bad_ones_refused(sessions: SessionFactory) -> None:
    kcmo = REGISTRY.get("kcmo")
    now = datetime(2026, 12, 1, 18, tzinfo=UTC)
    async with unit_of_work(sessions) as session:
        for spent, cents in ((date(2026, 10, 2), 125_050), (date(2026, 12, 1), 4_000)):
            await record_expense(
                session,
                kcmo,
                spent_on=spent,
                category="training",
                amount_cents=cents,
                note="  CISM   refresher ",
                recorded_by="Manager Example",
                now=now,
            )
        await session.commit()
    for bad, says in (
        ({"category": "bribes"}, "category: one of"),
        ({"spent_on": date(2026, 12, 2)}, "cannot be in the future"),
        ({"note": "x" * 201}, "at most 200"),
    ):
        async with unit_of_work(sessions) as session:
            fields = {
                "spent_on": date(2026, 11, 1),
                "category": "travel",
                "amount_cents": 100,
                "note": "",
                **bad,
            }
            with pytest.raises(BadExpense, match=says):
                await record_expense(session, kcmo, recorded_by="M", now=now, **fields)  # type: ignore[arg-type]
    async with unit_of_work(sessions) as session:
        report = await overtime_report(session, kcmo, Q4)
    assert report.expenses_cents == 129_050 and [e.note for e in report.expenses] == [
        "CISM refresher",
        "CISM refresher",
    ]
    assert report.by_category() == [("training", 129_050)]


def test_amounts() -> None:
    assert parse_amount("1,250.50") == 125_050 and parse_amount("$42") == 4_200
    for bad in ("0", "-3", "abc", "1.234", "1e9", "NaN", ""):
        with pytest.raises(BadExpense):
            parse_amount(bad)
