"""Small-cell suppression: no hidden cell of a published table can be worked out.

The check that matters is `brute_force_pinned`, written here independently of the module's
search: plain backtracking over the hidden cells' integer values within the reader's bounds,
keeping only assignments that satisfy every relation at once. Two quarters side by side need
no test of their own: each is suppressed as one table and they share no relation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from services.reports import suppression
from services.reports.suppression import (
    CellKey,
    Relation,
    Suppressed,
    UnprotectableTable,
    feasible_values,
    suppress,
)

MONTHS = ("2026-10", "2026-11", "2026-12")
COLUMNS = (*MONTHS, "Q")
T = 5
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)

Table = tuple[dict[CellKey, int], list[Relation]]


# --- building tables -------------------------------------------------------------------------


def add_row(
    values: dict[CellKey, int], relations: list[Relation], row: str, months: Sequence[int]
) -> None:
    """A metric row: three months and their quarter total."""
    for month, count in zip(MONTHS, months, strict=True):
        values[(row, month)] = count
    values[(row, "Q")] = sum(months)
    relations.append(Relation((row, "Q"), tuple((row, month) for month in MONTHS)))


def add_partition(relations: list[Relation], parent: str, parts: Sequence[str]) -> None:
    """parent = sum(parts), in every column including the quarter."""
    for column in COLUMNS:
        relations.append(Relation((parent, column), tuple((part, column) for part in parts)))


def table_of(
    rows: Mapping[str, Sequence[int]], partitions: Iterable[tuple[str, Sequence[str]]] = ()
) -> Table:
    values: dict[CellKey, int] = {}
    relations: list[Relation] = []
    for row, months in rows.items():
        add_row(values, relations, row, months)
    for parent, parts in partitions:
        add_partition(relations, parent, parts)
    return values, relations


def cap_for(values: Mapping[CellKey, int], threshold: int = T) -> int:
    """How far the brute force searches cells that no shown total bounds."""
    return 2 * max(values.values(), default=0) + threshold


# --- the independent brute force -------------------------------------------------------------


def brute_force_pinned(
    values: Mapping[CellKey, int],
    primary: Iterable[CellKey],
    complementary: Iterable[CellKey],
    relations: Sequence[Relation],
    bound: int,
    threshold: int = T,
) -> set[CellKey]:
    """Hidden cells with a single value consistent with the published table.

    The reader knows: shown counts, every relation, primary cells in [1, threshold-1],
    complementary cells in [threshold, bound]. A cell is pinned when no consistent assignment
    gives it another value than its true one.
    """
    primary, complementary = set(primary), set(complementary)
    hidden = sorted(primary | complementary)
    domain = {key: (1, threshold - 1) if key in primary else (threshold, bound) for key in hidden}
    shown = {key: value for key, value in values.items() if key not in domain}
    pinned: set[CellKey] = set()
    seen_other: set[CellKey] = set()
    for key in hidden:
        if key in seen_other:
            continue
        solution = _assignment_avoiding(key, values[key], hidden, domain, shown, relations)
        if solution is None:
            pinned.add(key)
        else:
            seen_other |= {k for k in hidden if solution[k] != values[k]}
    return pinned


def _assignment_avoiding(
    avoid_key: CellKey,
    avoid_value: int,
    hidden: list[CellKey],
    domain: Mapping[CellKey, tuple[int, int]],
    shown: Mapping[CellKey, int],
    relations: Sequence[Relation],
) -> dict[CellKey, int] | None:
    """Some assignment of all hidden cells that fits every relation and gives avoid_key a value
    other than avoid_value. Backtracking: a relation with one unknown member fixes it; else try
    every value of the next unknown cell (small domains first)."""
    relevant = [r for r in relations if any(m in domain for m in (r.total, *r.parts))]

    def allowed(key: CellKey, value: int) -> bool:
        low, high = domain[key]
        return low <= value <= high and not (key == avoid_key and value == avoid_value)

    def span(key: CellKey, known: Mapping[CellKey, int]) -> tuple[int, int]:
        return (known[key], known[key]) if key in known else domain[key]

    def consistent(known: Mapping[CellKey, int]) -> bool:
        """Every relation can still add up, given the values or bounds of its members."""
        for rel in relevant:
            spans = [span(p, known) for p in rel.parts]
            low, high = span(rel.total, known)
            if sum(a for a, _ in spans) > high or sum(b for _, b in spans) < low:
                return False
        return True

    def extend(assigned: dict[CellKey, int]) -> dict[CellKey, int] | None:
        known = {**shown, **assigned}
        if not consistent(known):
            return None
        for rel in relevant:
            unknown = [m for m in (rel.total, *rel.parts) if m not in known]
            if len(unknown) == 1:
                (key,) = unknown
                parts = sum(known[p] for p in rel.parts if p != key)
                value = parts if key == rel.total else known[rel.total] - parts
                return extend({**assigned, key: value}) if allowed(key, value) else None
        free = [k for k in hidden if k not in known]
        if not free:
            return assigned
        key = min(free, key=lambda k: (domain[k][1] - domain[k][0], k))
        low, high = domain[key]
        for rel in relevant:  # a part never exceeds a known total less the other known parts
            if key in rel.parts and rel.total in known:
                others = sum(known.get(p, 0) for p in rel.parts if p != key)
                high = min(high, known[rel.total] - others)
        for value in range(low, high + 1):
            if allowed(key, value):
                found = extend({**assigned, key: value})
                if found is not None:
                    return found
        return None

    return extend({})


def assert_protected(
    values: Mapping[CellKey, int], relations: Sequence[Relation], result: Suppressed
) -> None:
    """The properties every suppression must have."""
    t = result.threshold
    small = {key for key, value in values.items() if 1 <= value < t}
    assert result.primary == small
    assert not result.primary & result.complementary
    assert all(values[key] >= t for key in result.complementary)  # zeros are never hidden
    for key, value in values.items():
        expected = f"<{t}" if key in small else None if key in result.complementary else value
        assert result.shown(key) == expected
        assert result.hidden(key) == (key in small or key in result.complementary)
    hidden = result.primary | result.complementary
    # a complement always shares a relation with another hidden cell
    for key in result.complementary:
        assert any(
            key in (r.total, *r.parts) and len(hidden & {r.total, *r.parts}) >= 2 for r in relations
        )
    bound = cap_for(values, t)
    pinned = brute_force_pinned(values, result.primary, result.complementary, relations, bound, t)
    assert not pinned, f"recoverable: {sorted(pinned)}"


def suppress_or_prove_impossible(
    values: dict[CellKey, int], relations: list[Relation], threshold: int = T
) -> Suppressed | None:
    """Suppress; when the module gives up, check by brute force that hiding every non-zero cell
    still leaves those cells pinned (so no suppression at all could have helped)."""
    try:
        result = suppress(values, relations, threshold=threshold)
    except UnprotectableTable as error:
        small = {key for key, value in values.items() if 1 <= value < threshold}
        everything = {key for key, value in values.items() if value >= threshold}
        bound = cap_for(values, threshold)
        pinned = brute_force_pinned(values, small, everything, relations, bound, threshold)
        assert error.cells and error.cells <= pinned
        return None
    assert_protected(values, relations, result)
    return result


# --- strategies ------------------------------------------------------------------------------

COUNTS = st.one_of(st.just(0), st.integers(1, 6), st.integers(0, 12), st.integers(0, 40))


@st.composite
def split_of(draw: st.DrawFn, total: int, pieces: int) -> list[int]:
    """total split into `pieces` non-negative parts."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=pieces - 1, max_size=pieces - 1)))
    edges = [0, *cuts, total]
    return [b - a for a, b in pairwise(edges)]


@st.composite
def tables(draw: st.DrawFn) -> Table:
    """0-3 independent rows and maybe a parent row with one or two partitions (2-4 part rows)."""
    values: dict[CellKey, int] = {}
    relations: list[Relation] = []
    has_family = draw(st.booleans())
    for i in range(draw(st.integers(0 if has_family else 1, 3))):
        add_row(values, relations, f"pages{i}", draw(st.lists(COUNTS, min_size=3, max_size=3)))
    if has_family:
        shape = draw(st.sampled_from([(2,), (3,), (4,), (2, 2)]))
        first = [f"contacts.a{i}" for i in range(shape[0])]
        months = {row: draw(st.lists(COUNTS, min_size=3, max_size=3)) for row in first}
        parent = [sum(months[row][m] for row in first) for m in range(3)]
        add_row(values, relations, "contacts", parent)
        for row in first:
            add_row(values, relations, row, months[row])
        add_partition(relations, "contacts", first)
        if len(shape) == 2:
            second = [f"contacts.b{i}" for i in range(shape[1])]
            splits = [draw(split_of(parent[m], shape[1])) for m in range(3)]
            for i, row in enumerate(second):
                add_row(values, relations, row, [splits[m][i] for m in range(3)])
            add_partition(relations, "contacts", second)
    return values, relations


# --- properties ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(tables())
def test_no_hidden_cell_can_be_worked_out(table: Table) -> None:
    values, relations = table
    result = suppress_or_prove_impossible(values, relations)
    if result is None:
        event("unprotectable")
    else:
        event(f"complementary cells: {min(len(result.complementary), 6)}+")
        event(f"primary cells: {min(len(result.primary), 6)}+")


@settings(max_examples=150, deadline=None)
@given(tables(), st.sampled_from([3, 4, 10]))
def test_other_thresholds_protect_as_well(table: Table, threshold: int) -> None:
    values, relations = table
    suppress_or_prove_impossible(values, relations, threshold)


@PROPERTY_SETTINGS
@given(tables(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_order(table: Table, rnd: random.Random) -> None:
    values, relations = table
    keys = list(values)
    rnd.shuffle(keys)
    shuffled_relations = [
        Relation(r.total, tuple(rnd.sample(r.parts, len(r.parts)))) for r in relations
    ]
    rnd.shuffle(shuffled_relations)
    try:
        first = suppress(values, relations)
    except UnprotectableTable as error:
        with pytest.raises(UnprotectableTable) as again:
            suppress({k: values[k] for k in keys}, shuffled_relations)
        assert again.value.cells == error.cells
        return
    second = suppress({k: values[k] for k in keys}, shuffled_relations)
    assert (first.primary, first.complementary) == (second.primary, second.complementary)


@PROPERTY_SETTINGS
@given(tables(), st.data())
def test_the_auditor_agrees_with_the_brute_force(table: Table, data: st.DataObject) -> None:
    """feasible_values on an arbitrary hiding pattern (not only suppress's) pins exactly the
    cells the brute force pins."""
    values, relations = table
    small = sorted(key for key, value in values.items() if 1 <= value < T)
    large = sorted(key for key, value in values.items() if value >= T)
    complementary = data.draw(
        st.sets(st.sampled_from(large), max_size=8) if large else st.just(set())
    )
    published: dict[CellKey, int | str | None] = {
        key: f"<{T}" if key in small else None if key in complementary else value
        for key, value in values.items()
    }
    seen = feasible_values(published, relations, T, limit=2, cap=cap_for(values))
    assert set(seen) == set(small) | complementary
    for key, options in seen.items():
        assert values[key] in options or len(options) == 2
    pinned = {key for key, options in seen.items() if len(options) < 2}
    assert pinned == brute_force_pinned(values, small, complementary, relations, cap_for(values))


@PROPERTY_SETTINGS
@given(tables())
def test_tables_without_small_counts_show_everything(table: Table) -> None:
    """Five times any table still adds up and has only zeros and counts of 5 or more."""
    values, relations = table
    result = suppress({key: T * value for key, value in values.items()}, relations)
    assert not result.primary and not result.complementary


# --- examples --------------------------------------------------------------------------------


def test_all_counts_of_five_or_more_hide_nothing() -> None:
    values, relations = table_of(
        {"contacts": (12, 0, 30), "contacts.member": (7, 0, 5), "contacts.family": (5, 0, 25)},
        [("contacts", ("contacts.member", "contacts.family"))],
    )
    result = suppress(values, relations)
    assert not result.primary and not result.complementary
    assert result.shown(("contacts", "Q")) == 42


def test_zeros_stay_visible_and_a_lone_small_count_gets_one_partner() -> None:
    values, relations = table_of({"pages": (3, 0, 40)})
    result = suppress(values, relations)
    assert result.primary == {("pages", "2026-10")}
    assert result.complementary == {("pages", "2026-12")}
    assert result.shown(("pages", "2026-11")) == 0
    assert result.shown(("pages", "Q")) == 43
    assert_protected(values, relations, result)


def test_two_small_counts_with_a_known_sum_of_two_get_a_third_cell() -> None:
    """Hiding only 1 and 1 of a row of 12 with a 10 shown: their sum is 2, so both are 1."""
    values, relations = table_of({"calls": (1, 1, 10)})
    assert brute_force_pinned(
        values, [("calls", "2026-10"), ("calls", "2026-11")], [], relations, 100
    )
    result = suppress(values, relations)
    assert len(result.complementary) == 1
    assert_protected(values, relations, result)


def test_a_one_and_a_five_adding_up_to_a_shown_six_are_not_a_pair() -> None:
    """The reader knows the complement is at least 5, so 1 + 5 = 6 pins both."""
    values, relations = table_of({"declines": (1, 5, 0)})
    assert brute_force_pinned(
        values, [("declines", "2026-10")], [("declines", "2026-11")], relations, 100
    ) == {
        ("declines", "2026-10"),
        ("declines", "2026-11"),
    }
    result = suppress(values, relations)
    assert result.complementary == {("declines", "Q")}
    assert result.shown(("declines", "2026-11")) == 5
    assert_protected(values, relations, result)


def test_a_rectangle_pinned_by_the_domains_is_seen_and_avoided() -> None:
    """Rows and columns each have two hidden cells, yet 1 + 5 = 6 in every line pins all four."""
    values, relations = table_of(
        {"contacts": (6, 6, 20), "contacts.member": (1, 5, 10), "contacts.family": (5, 1, 10)},
        [("contacts", ("contacts.member", "contacts.family"))],
    )
    rectangle_primary = [("contacts.member", "2026-10"), ("contacts.family", "2026-11")]
    rectangle_other = [("contacts.member", "2026-11"), ("contacts.family", "2026-10")]
    published: dict[CellKey, int | str | None] = dict(values)
    published.update({key: "<5" for key in rectangle_primary})
    published.update({key: None for key in rectangle_other})
    seen = feasible_values(published, relations, T)
    assert all(len(options) == 1 for options in seen.values())
    assert brute_force_pinned(values, rectangle_primary, rectangle_other, relations, 100) == set(
        seen
    )
    assert_protected(values, relations, suppress(values, relations))


def test_a_quarter_of_four_spread_over_four_cells_cannot_be_protected() -> None:
    """Quarter "<5" and four non-zero breakdown cells: each is at least 1, together at most 4."""
    values, relations = table_of(
        {"contacts": (2, 2, 0), "contacts.member": (1, 1, 0), "contacts.family": (1, 1, 0)},
        [("contacts", ("contacts.member", "contacts.family"))],
    )
    with pytest.raises(UnprotectableTable) as error:
        suppress(values, relations)
    assert ("contacts.member", "2026-10") in error.value.cells
    assert suppress_or_prove_impossible(values, relations) is None


def test_a_real_quarter_with_three_partitions_of_one_parent() -> None:
    rows = {
        "contacts": (40, 3, 17),
        "contacts.member": (31, 2, 9),
        "contacts.family": (9, 1, 8),
        "contacts.eap": (20, 0, 6),
        "contacts.mhp": (12, 3, 2),
        "contacts.other": (6, 0, 9),
        "contacts.none": (2, 0, 0),
        "contacts.incident": (36, 3, 11),
        "contacts.direct": (4, 0, 6),
        "pages": (14, 9, 22),
        "calls": (4, 1, 12),
        "timeouts": (0, 0, 3),
        "activations.pursuit": (2, 0, 7),
    }
    values, relations = table_of(
        rows,
        [
            ("contacts", ("contacts.member", "contacts.family")),
            ("contacts", ("contacts.eap", "contacts.mhp", "contacts.other", "contacts.none")),
            ("contacts", ("contacts.incident", "contacts.direct")),
        ],
    )
    result = suppress(values, relations)
    assert_protected(values, relations, result)
    seen = feasible_values(result.published(), relations, T, cap=cap_for(values))
    assert all(len(options) >= 2 for options in seen.values())
    assert result.shown(("pages", "Q")) == 45


@settings(max_examples=60, deadline=None)
@given(tables())
def test_an_audit_out_of_budget_never_counts_as_safe(table: Table) -> None:
    """With no search budget at all, every group looks exposed: more is hidden or it gives up."""
    values, relations = table
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(suppression, "AUDIT_BUDGET", 0)
        try:
            result = suppress(values, relations)
        except UnprotectableTable as error:
            assert error.cells
            return
    assert not result.primary  # nothing to protect, so nothing was audited


def test_malformed_tables_are_refused() -> None:
    values, relations = table_of({"pages": (1, 2, 3)})
    with pytest.raises(ValueError, match="sum of parts"):
        suppress({**values, ("pages", "Q"): 7}, relations)
    with pytest.raises(ValueError, match="unknown cell"):
        suppress(values, [*relations, Relation(("x", "Q"), (("pages", "Q"),))])
    with pytest.raises(ValueError, match="non-negative"):
        suppress({**values, ("x", "Q"): -1}, relations)
    with pytest.raises(ValueError, match="at least 3"):
        suppress(values, relations, threshold=2)


def test_the_threshold_is_the_agencys() -> None:
    values, relations = table_of({"pages": (6, 20, 30)})
    result = suppress(values, relations, threshold=10)
    assert result.shown(("pages", "2026-10")) == "<10"
    assert result.hidden(("pages", "2026-11"))
