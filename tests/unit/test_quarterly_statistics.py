"""A quarter's statistics from plain facts (no servers): what is counted, what is hidden, and
that nothing identifying or day-level comes out."""

from __future__ import annotations

import json
import re

import pytest

from services.reports.charts import charts
from services.reports.documents import render_csv
from services.reports.facts import ActivationFact, ContactFact
from services.reports.periods import BadQuarter, Quarter
from services.reports.quarterly import QUARTER, quarter_statistics
from shared.events import Referral
from shared.policy import load_registry

KCMO = load_registry().get("kcmo")
Q4 = Quarter(2026, 4)


def _activation(
    month: str, *, accepted: int = 2, criteria: tuple[str, ...] = ("III.E.1",)
) -> ActivationFact:
    return ActivationFact(
        month=month,
        activate=True,
        criteria=criteria,
        specialists=2,
        accepted=accepted,
        to_first_acceptance_s=120.0 if accepted else None,
        to_last_acceptance_s=300.0 if accepted >= 2 else None,
        pages=2,
        calls=0,
        declines=0,
        timeouts=0,
    )


def _contact(month: str, referral: Referral = "none") -> ContactFact:
    return ContactFact(
        month=month, source="incident", people=1, kind="member", referral=referral, hours=1.5
    )


def test_quarters_parse_and_know_their_months() -> None:
    assert Quarter.parse("2026q4") == Q4 and str(Q4) == "2026Q4"
    assert Q4.months == ("2026-10", "2026-11", "2026-12")
    assert Q4.label == "October to December 2026"
    assert Q4.next() == Quarter(2027, 1) and Quarter(2026, 1).previous() == Quarter(2025, 4)
    for bad in ("2026Q5", "Q4", "2026-Q4", "", "1999Q1"):
        with pytest.raises(BadQuarter):
            Quarter.parse(bad)


def test_counts_by_month_and_quarter_with_small_ones_hidden() -> None:
    facts = [_activation("2026-10") for _ in range(12)] + [_activation("2026-11") for _ in range(3)]
    got = quarter_statistics(KCMO, Q4, facts, [])
    row = got.row("activations").values
    assert row["2026-11"] == "<5" and row["2026-12"] == 0
    assert None in (row["2026-10"], row[QUARTER]), "else 15 - 12 would give November away"
    assert {row["2026-10"], row[QUARTER]} - {None} <= {12, 15}
    criterion = got.row("criterion.III.E.1")
    assert criterion.section == "830 §III.E.1"
    # times are given only where five or more activations stand behind them
    assert got.row("time.first.median").values["2026-10"] in (2.0, None)
    assert got.row("time.first.median").values["2026-11"] is None


def test_nothing_identifying_or_day_level_comes_out() -> None:
    facts = [_activation(f"2026-{m}") for m in ("10", "11", "12") for _ in range(6)]
    contacts = [_contact("2026-11") for _ in range(7)]
    got = quarter_statistics(KCMO, Q4, facts, contacts)
    text = json.dumps(got.as_json()) + render_csv(got) + "".join(charts(got))
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert got.row("time.first.median").values["2026-10"] == 2.0
    assert got.row("time.last.p90").values[QUARTER] == 5.0
    assert got.row("people").values[QUARTER] == 7
    assert got.row("hours").values[QUARTER] == 10.5
    assert got.row("hours").values["2026-11"] is None, "people and hours for the quarter only"


def test_a_breakdown_that_cannot_be_protected_is_withheld() -> None:
    contacts = [_contact("2026-11", referral) for referral in ("eap", "mhp", "other", "none")]
    got = quarter_statistics(KCMO, Q4, [], contacts)
    assert got.row("contacts").values[QUARTER] == "<5"
    for referral in ("eap", "mhp", "other", "none"):
        assert set(got.row(f"contacts.{referral}").values.values()) == {None}
    assert any("withheld" in note for note in got.notes)


def test_people_and_hours_need_five_contacts() -> None:
    got = quarter_statistics(KCMO, Q4, [], [_contact("2026-10") for _ in range(3)])
    assert got.row("people").values[QUARTER] is None
    assert got.row("hours").values[QUARTER] is None
