"""A quarter's anonymous statistics, from plain facts (pure: no I/O).

830 §IV.D.3.f asks for "anonymous statistical data of reported contacts by PSS", §IV.D.1 lets no
identifiable information reach the chief, FOP #4 §D.2.h the same for the Lodge President. So the
facts that come in carry no name, member id, incident id or day (see `facts`), and what goes out
is one table per quarter: a row per measure, a column per month and one for the quarter, with
the small counts hidden by `suppression` over the whole table at once. A month shown alone is a
column of that one table, so two views of the same period never differ in what they hide.

Figures that are not counts (times to acceptance, people, hours) follow the counts behind them:
a median or a sum is shown only where at least `threshold` facts stand behind it and its count
is shown; people and hours are given for the quarter only, so no month's can be had by
subtraction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median, quantiles
from typing import Literal

from services.reports.facts import ActivationFact, ContactFact
from services.reports.periods import Quarter, month_label
from services.reports.suppression import (
    CellKey,
    Relation,
    Suppressed,
    UnprotectableTable,
    suppress,
)
from shared.policy.model import AgencyConfig

QUARTER = "quarter"
"""The column of the whole quarter."""

Shown = int | float | str | None
"""A cell as published: a number, "<5" for a small count, None where hidden or not given."""

CONTACT_SOURCES = (("incident", "From an activation"), ("direct", "Member called directly"))
CONTACT_KINDS = (("member", "Members"), ("family", "Family members"))
REFERRALS = (
    ("eap", "Referred to the EAP"),
    ("mhp", "Referred to the team's mental health professional"),
    ("other", "Referred to another professional"),
    ("none", "No referral"),
)


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    section: str | None
    values: Mapping[str, Shown]
    """Keyed by month ("2026-10") and `QUARTER`."""
    unit: Literal["count", "minutes", "people", "hours"] = "count"


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    rows: tuple[Row, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class QuarterStatistics:
    agency: str
    agency_name: str
    quarter: Quarter
    threshold: int
    groups: tuple[Group, ...]
    hidden: int
    """How many cells are hidden, small or to protect a small one."""
    notes: tuple[str, ...] = field(default=())

    @property
    def months(self) -> tuple[str, str, str]:
        return self.quarter.months

    def row(self, key: str) -> Row:
        for group in self.groups:
            for row in group.rows:
                if row.key == key:
                    return row
        raise KeyError(key)

    def as_json(self) -> dict[str, object]:
        return {
            "agency": self.agency,
            "quarter": str(self.quarter),
            "months": list(self.months),
            "small_cell_threshold": self.threshold,
            "groups": [
                {
                    "title": group.title,
                    "note": group.note,
                    "rows": [
                        {
                            "key": row.key,
                            "label": row.label,
                            "section": row.section,
                            "unit": row.unit,
                            "values": dict(row.values),
                        }
                        for row in group.rows
                    ],
                }
                for group in self.groups
            ],
            "notes": list(self.notes),
        }


def _counts(
    quarter: Quarter, activations: Sequence[ActivationFact], contacts: Sequence[ContactFact]
) -> tuple[dict[str, dict[str, int]], list[tuple[str, tuple[str, ...]]]]:
    """Every count row, by month, and the partitions among them (parent = sum of parts)."""
    months = quarter.months
    rows: dict[str, dict[str, int]] = {}

    def add(key: str, month: str, amount: int = 1) -> None:
        rows.setdefault(key, dict.fromkeys(months, 0))[month] += amount

    for key in (
        "reports",
        "activations",
        "activations.staffed",
        "activations.short",
        "pages",
        "calls",
        "declines",
        "timeouts",
        "contacts",
        *(f"contacts.{name}" for name, _ in (*CONTACT_SOURCES, *CONTACT_KINDS, *REFERRALS)),
    ):
        rows[key] = dict.fromkeys(months, 0)
    for fact in activations:
        if fact.month not in months:
            continue
        add("reports", fact.month)
        add("pages", fact.month, fact.pages)
        add("calls", fact.month, fact.calls)
        add("declines", fact.month, fact.declines)
        add("timeouts", fact.month, fact.timeouts)
        if not fact.activate:
            continue
        add("activations", fact.month)
        add("activations.staffed" if fact.staffed else "activations.short", fact.month)
        for criterion in fact.criteria:
            add(f"criterion.{criterion}", fact.month)
    for contact in contacts:
        if contact.month not in months:
            continue
        add("contacts", contact.month)
        add(f"contacts.{contact.source}", contact.month)
        add(f"contacts.{contact.kind}", contact.month)
        add(f"contacts.{contact.referral}", contact.month)
    partitions = [
        ("activations", ("activations.staffed", "activations.short")),
        ("contacts", tuple(f"contacts.{name}" for name, _ in CONTACT_SOURCES)),
        ("contacts", tuple(f"contacts.{name}" for name, _ in CONTACT_KINDS)),
        ("contacts", tuple(f"contacts.{name}" for name, _ in REFERRALS)),
    ]
    return rows, partitions


def _table(
    quarter: Quarter,
    rows: Mapping[str, Mapping[str, int]],
    partitions: Iterable[tuple[str, tuple[str, ...]]],
) -> tuple[dict[CellKey, int], list[Relation]]:
    columns = (*quarter.months, QUARTER)
    values: dict[CellKey, int] = {}
    relations: list[Relation] = []
    for key, by_month in rows.items():
        for month in quarter.months:
            values[(key, month)] = by_month[month]
        values[(key, QUARTER)] = sum(by_month.values())
        relations.append(
            Relation(total=(key, QUARTER), parts=tuple((key, month) for month in quarter.months))
        )
    for parent, parts in partitions:
        for column in columns:
            relations.append(
                Relation(total=(parent, column), parts=tuple((part, column) for part in parts))
            )
    return values, relations


def _suppressed(
    quarter: Quarter,
    counts: dict[str, dict[str, int]],
    partitions: list[tuple[str, tuple[str, ...]]],
    threshold: int,
) -> tuple[Suppressed, frozenset[str]]:
    """The table made safe; when no choice of hidden cells can protect it (e.g. a quarter's
    "<5" contacts split into four kinds of referral, each then exactly 1), the breakdowns are
    withheld, the largest first, until it can: a coarser table, never a revealing one."""
    withheld: set[str] = set()
    for_order = sorted(partitions, key=lambda partition: -len(partition[1]))
    while True:
        kept = {key: by_month for key, by_month in counts.items() if key not in withheld}
        kept_partitions = [
            (parent, parts) for parent, parts in partitions if parts[0] not in withheld
        ]
        values, relations = _table(quarter, kept, kept_partitions)
        try:
            return suppress(values, relations, threshold=threshold), frozenset(withheld)
        except UnprotectableTable:
            remaining = [parts for _, parts in for_order if parts[0] not in withheld]
            if not remaining:
                raise
            withheld.update(remaining[0])


def _visible(table: Suppressed, key: CellKey) -> bool:
    """Shown as a number (not hidden, not withheld with its breakdown)."""
    return key in table.values and not table.hidden(key)


def _count_row(
    table: Suppressed, quarter: Quarter, key: str, label: str, section: str | None = None
) -> Row:
    columns = (*quarter.months, QUARTER)
    if (key, QUARTER) not in table.values:  # a breakdown withheld this quarter
        return Row(key, label, section, dict.fromkeys(columns))
    return Row(key, label, section, {column: table.shown((key, column)) for column in columns})


def _minutes(seconds: Sequence[float], threshold: int, how: Literal["median", "p90"]) -> Shown:
    if len(seconds) < threshold:
        return None
    value = median(seconds) if how == "median" else quantiles(seconds, n=10, method="inclusive")[-1]
    return round(value / 60, 1)


def _time_row(
    table: Suppressed,
    quarter: Quarter,
    *,
    key: str,
    label: str,
    basis: str,
    seconds_by_month: Mapping[str, Sequence[float]],
    how: Literal["median", "p90"],
    threshold: int,
) -> Row:
    values: dict[str, Shown] = {}
    everything: list[float] = []
    for month in quarter.months:
        seconds = seconds_by_month.get(month, ())
        everything.extend(seconds)
        shown = _visible(table, (basis, month))
        values[month] = _minutes(seconds, threshold, how) if shown else None
    shown = _visible(table, (basis, QUARTER))
    values[QUARTER] = _minutes(everything, threshold, how) if shown else None
    return Row(key, label, None, values, unit="minutes")


def _quarter_only(
    table: Suppressed,
    quarter: Quarter,
    *,
    key: str,
    label: str,
    basis: str,
    total: float,
    unit: Literal["people", "hours"],
    threshold: int,
) -> Row:
    values: dict[str, Shown] = dict.fromkeys(quarter.months)
    visible = _visible(table, (basis, QUARTER)) and table.values[(basis, QUARTER)] >= threshold
    values[QUARTER] = (round(total, 2) if unit == "hours" else int(total)) if visible else None
    return Row(key, label, None, values, unit=unit)


def quarter_statistics(
    agency: AgencyConfig,
    quarter: Quarter,
    activations: Sequence[ActivationFact],
    contacts: Sequence[ContactFact],
) -> QuarterStatistics:
    """The quarter's statistics for `agency`, safe to show its chief."""
    threshold = agency.reports.small_cell_threshold
    policy = agency.policy
    counts, partitions = _counts(quarter, activations, contacts)
    for criterion in policy.criteria:
        counts.setdefault(f"criterion.{criterion.id}", dict.fromkeys(quarter.months, 0))
    table, withheld = _suppressed(quarter, counts, partitions, threshold)

    def count(key: str, label: str, section: str | None = None) -> Row:
        return _count_row(table, quarter, key, label, section)

    first: dict[str, list[float]] = {}
    last: dict[str, list[float]] = {}
    for fact in activations:
        if fact.month in quarter.months and fact.activate:
            if fact.to_first_acceptance_s is not None:
                first.setdefault(fact.month, []).append(fact.to_first_acceptance_s)
            if fact.to_last_acceptance_s is not None:
                last.setdefault(fact.month, []).append(fact.to_last_acceptance_s)
    in_quarter = [contact for contact in contacts if contact.month in quarter.months]

    def time_row(
        key: str,
        label: str,
        basis: str,
        seconds: Mapping[str, Sequence[float]],
        how: Literal["median", "p90"],
    ) -> Row:
        return _time_row(
            table,
            quarter,
            key=key,
            label=label,
            basis=basis,
            seconds_by_month=seconds,
            how=how,
            threshold=threshold,
        )

    activation_rows = (
        count("reports", "Incidents reported"),
        count("activations", "Activations", f"{policy.cite} §{policy.criteria_section}"),
        *(
            count(
                f"criterion.{criterion.id}",
                _short(criterion.words),
                f"{policy.cite} §{criterion.id}",
            )
            for criterion in policy.criteria
        ),
    )
    staffing_rows = (
        count("activations.staffed", "Fully staffed"),
        count("activations.short", "Short of specialists"),
        time_row(
            "time.first.median",
            "Report to first acceptance, median",
            "activations",
            first,
            "median",
        ),
        time_row(
            "time.first.p90",
            "Report to first acceptance, 90th percentile",
            "activations",
            first,
            "p90",
        ),
        time_row(
            "time.last.median",
            "Report to full staffing, median",
            "activations.staffed",
            last,
            "median",
        ),
        time_row(
            "time.last.p90",
            "Report to full staffing, 90th percentile",
            "activations.staffed",
            last,
            "p90",
        ),
    )
    paging_rows = (
        count("pages", "Pages sent (SMS)"),
        count("calls", "Voice calls"),
        count("declines", "Declined"),
        count("timeouts", "Timed out (no answer)"),
    )
    contact_rows = (
        count("contacts", "Contacts logged", _cite(agency, agency.reports.contacts_section)),
        *(count(f"contacts.{name}", label) for name, label in CONTACT_SOURCES),
        *(count(f"contacts.{name}", label) for name, label in CONTACT_KINDS),
        *(count(f"contacts.{name}", label) for name, label in REFERRALS),
        _quarter_only(
            table,
            quarter,
            key="people",
            label="People supported",
            basis="contacts",
            total=sum(contact.people for contact in in_quarter),
            unit="people",
            threshold=threshold,
        ),
        _quarter_only(
            table,
            quarter,
            key="hours",
            label="Hours given",
            basis="contacts",
            total=sum(contact.hours for contact in in_quarter),
            unit="hours",
            threshold=threshold,
        ),
    )
    hidden = len(table.primary) + len(table.complementary)
    return QuarterStatistics(
        agency=agency.slug,
        agency_name=agency.name,
        quarter=quarter,
        threshold=threshold,
        groups=(
            Group("Activations", activation_rows, "An incident may meet more than one criterion."),
            Group(
                "Staffing",
                staffing_rows,
                "Times in minutes; given only where at least "
                f"{threshold} activations stand behind them.",
            ),
            Group("Pages and calls", paging_rows),
            Group(
                "Contacts",
                contact_rows,
                "Logged by the specialists, with no name and no content; people and hours "
                "for the quarter only.",
            ),
        ),
        hidden=hidden,
        notes=(
            *(
                (
                    "Some breakdowns are withheld this quarter: too few to show without "
                    "pointing at someone.",
                )
                if withheld
                else ()
            ),
            f"Counts from 1 to {threshold - 1} are shown as \u201c<{threshold}\u201d.",
            "A dash (\u2014) hides a count that would let a small one be worked out.",
            "No name, member id, incident or day is part of these statistics.",
        ),
    )


def _cite(agency: AgencyConfig, section: str | None) -> str | None:
    return None if section is None else f"{agency.policy.cite} §{section}"


def _short(words: str, limit: int = 70) -> str:
    """A criterion's words, cut at a word boundary for a table row."""
    if len(words) <= limit:
        return words
    return words[: words.rfind(" ", 0, limit)].rstrip(",;") + "…"


def month_columns(statistics: QuarterStatistics) -> list[tuple[str, str]]:
    """(column key, heading) in table order."""
    return [(month, month_label(month)) for month in statistics.months] + [(QUARTER, "Quarter")]
