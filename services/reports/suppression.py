"""Small-cell suppression for the anonymous statistics the chief of police sees.

The chief sees counts (pages, calls, contacts, ...) per month of a quarter and for the quarter,
but must never be able to tell how many times something happened when that number is small
enough to point at a person. Pure code: no I/O, standard library only.

Rules
-----
* Primary suppression: every count from 1 to threshold-1 (threshold per agency, default 5) is
  shown as "<5". Zeros and counts of at least the threshold are shown.
* Complementary suppression: a published table also shows totals (`Relation`: a total equals
  the sum of its parts), so a hidden count could be worked out by subtraction. Further cells
  are hidden ("—") until no hidden cell can be worked out. Zeros are never chosen as
  complements, so every complementary cell is a count of at least the threshold.

Attacker model (what the guarantee is against)
----------------------------------------------
The reader knows every relation of the table, every shown value, that a "<5" cell is an
integer in [1, threshold-1], that a "—" cell is an integer of at least the threshold (zeros
are never hidden as complements), and that every count is a non-negative integer. The reader
combines all of these at once: every row and column relation together, so two-dimensional
patterns (a rectangle of hidden cells) are taken into account.

Guarantee: for every hidden cell, at least two integer values are consistent with all of that
knowledge. `suppress` checks this with an exact search over the joint integer solutions of the
hidden cells (per group of hidden cells linked by relations) before it returns; when the search
cannot settle a cell within its budget the cell counts as exposed and more is hidden. To keep
the search finite, cells that no shown total bounds are searched only up to twice the largest
count of the table plus the threshold; that only shrinks what the reader could consider, so a
table that passes is safe without the bound too.

When even hiding every non-zero cell linked to a small count cannot protect it, there is no
way to publish that table under these rules, and `suppress` raises `UnprotectableTable`
rather than publish it. Typical case: a quarter total of "<5" whose breakdown shows four
non-zero cells: the reader knows each is at least 1 and together they are at most 4, so each
is exactly 1. The caller must publish a coarser table (fewer rows or columns) instead.

How complements are chosen: a relation with a single hidden member gets a partner, the
smallest visible non-zero member that leaves both loose within that relation; then the exact
audit runs and, for every group with a pinnable cell, hides the smallest visible non-zero member
of the relations of the pinned cells, until the audit passes. Finally complements are given
back, largest first, wherever the audit still passes without them.

Not covered: attribute disclosure by zeros (a shown zero says what did not happen), and a
reader who reasons about which cells this code prefers as complements.

Several periods: each quarter is suppressed as one table with its months and its quarter
column. Two quarters side by side share no relation, so putting them together gives the
reader no equation that a single quarter did not. A total across quarters (a year column)
would be such an equation: publish it only by suppressing the quarters and the year as one
table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

CellKey = tuple[str, str]
"""(row, column), e.g. ("contacts.member", "2026-11") or ("contacts", "Q")."""

Shown = int | str | None
"""What a reader sees of a cell: the count, "<5" for a primary cell, None ("—") otherwise."""

DEFAULT_THRESHOLD = 5
AUDIT_BUDGET = 60_000
"""Work units (constraint revisions) one audit of a group of hidden cells may take in
`suppress`; beyond it the cells not yet shown to be safe count as exposed."""
FEASIBLE_BUDGET = 2_000_000
"""Default work units `feasible_values` may spend on one group of hidden cells."""


@dataclass(frozen=True, slots=True)
class Relation:
    """total == sum(parts), a fact the reader of the table knows."""

    total: CellKey
    parts: tuple[CellKey, ...]

    @property
    def members(self) -> tuple[CellKey, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A table with what may be shown of each cell."""

    values: Mapping[CellKey, int]
    """The true values of all cells (never to be published as such)."""
    primary: frozenset[CellKey]
    """1 <= value < threshold: shown "<5"."""
    complementary: frozenset[CellKey]
    """Hidden so that no hidden cell can be worked out: shown "—"."""
    threshold: int = DEFAULT_THRESHOLD

    def hidden(self, key: CellKey) -> bool:
        return key in self.primary or key in self.complementary

    def shown(self, key: CellKey) -> Shown:
        """The count when visible, "<5" when primary, None when complementary."""
        value = self.values[key]
        if key in self.primary:
            return f"<{self.threshold}"
        if key in self.complementary:
            return None
        return value

    def published(self) -> dict[CellKey, Shown]:
        """Every cell as the reader sees it (what `feasible_values` takes)."""
        return {key: self.shown(key) for key in sorted(self.values)}


class UnprotectableTable(ValueError):
    """No choice of complements protects these small counts; publish a coarser table."""

    def __init__(self, cells: frozenset[CellKey]) -> None:
        self.cells = cells
        listed = ", ".join(f"{row}/{column}" for row, column in sorted(cells))
        super().__init__(f"these cells would be exposed however much is hidden: {listed}")


class AuditBudgetExceeded(RuntimeError):
    """`feasible_values` could not settle every cell within its budget."""


def suppress(
    values: Mapping[CellKey, int],
    relations: Sequence[Relation],
    *,
    threshold: int = DEFAULT_THRESHOLD,
) -> Suppressed:
    """Decide which cells of one table to hide (see the module docstring for the guarantee).

    Deterministic: the result depends on the cells and relations, not on their order. Raises
    ValueError for a malformed table (unknown cell, negative count, a relation that does not
    add up) and UnprotectableTable when no suppression can protect the table.
    """
    _check_threshold(threshold)
    _check_values(values)
    rels = _canonical_relations(relations, values)
    _check_sums(values, rels)
    table = _Table(values, rels, threshold)
    primary = frozenset(key for key, value in values.items() if 1 <= value < threshold)
    return Suppressed(
        values=MappingProxyType(dict(values)),
        primary=primary,
        complementary=table.complements(primary),
        threshold=threshold,
    )


def feasible_values(
    published: Mapping[CellKey, Shown],
    relations: Sequence[Relation],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    limit: int = 2,
    cap: int | None = None,
    budget: int = FEASIBLE_BUDGET,
) -> dict[CellKey, set[int]]:
    """The reader's view: values each hidden cell can take, given only the published table.

    `published` maps every cell to an int (shown), a str (primary, in [1, threshold-1]) or None
    (complementary, at least the threshold). For each hidden cell it returns up to `limit`
    distinct values that some assignment of all hidden cells consistent with every relation
    gives it; fewer than `limit` means the cell has no more. Cells that no shown total bounds
    are searched up to `cap` (default: twice the sum of the shown counts plus the threshold
    for each hidden cell). Raises ValueError when nothing within the cap fits the table and
    AuditBudgetExceeded when a group of cells takes more than `budget` work units.
    """
    _check_threshold(threshold)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    visible = {key: value for key, value in published.items() if isinstance(value, int)}
    _check_values(visible)
    for key, value in published.items():
        if not isinstance(value, int | str) and value is not None:
            raise ValueError(f"{key}: a shown cell is an int, a str or None, not {value!r}")
    kinds = {key: isinstance(value, str) for key, value in published.items() if key not in visible}
    rels = _canonical_relations(relations, published)
    ceiling = cap if cap is not None else 2 * sum(visible.values()) + threshold * (len(kinds) + 1)
    result: dict[CellKey, set[int]] = {}
    for cells, indices in _components(kinds, rels):
        bounds = [_domain(kinds[cell], threshold, ceiling) for cell in cells]
        problem = _Problem.build(cells, bounds, visible, [rels[i] for i in indices])
        result.update(zip(cells, _reader_values(problem, limit, budget), strict=True))
    return result


def _reader_values(problem: _Problem, limit: int, budget: int) -> list[set[int]]:
    """`feasible_values` for one group: any solution first, then others that differ from it."""
    spend = _Budget(budget)
    try:
        lo, hi = problem.root_bounds(spend)
        seed = None if lo is None or hi is None else _search(problem, lo, hi, lo, spend)
    except _BudgetExhausted:
        raise AuditBudgetExceeded("the search for a first solution ran out of budget") from None
    if seed is None or lo is None or hi is None:
        raise ValueError("no assignment of the hidden cells fits the published table")
    found, complete = _collect(problem, lo, hi, seed, limit, spend)
    if not complete:
        raise AuditBudgetExceeded(f"{len(problem.cells)} hidden cells, budget {budget}")
    return found


# --- validation ------------------------------------------------------------------------------


def _check_threshold(threshold: int) -> None:
    """A threshold below 3 cannot be protected: "<2" would say the count is exactly 1."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 3:
        raise ValueError(f"threshold must be an integer of at least 3, not {threshold!r}")


def _check_values(values: Mapping[CellKey, int]) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key}: counts are non-negative integers, not {value!r}")


def _canonical_relations(
    relations: Iterable[Relation], cells: Mapping[CellKey, object]
) -> tuple[Relation, ...]:
    """Relations with sorted parts, sorted and without repeats, so that order cannot matter."""
    canonical: set[Relation] = set()
    for rel in relations:
        parts = tuple(sorted(rel.parts))
        if not parts or len(set(parts)) != len(parts) or rel.total in parts:
            raise ValueError(f"relation {rel}: parts must be distinct and exclude the total")
        for key in (rel.total, *parts):
            if key not in cells:
                raise ValueError(f"relation {rel}: unknown cell {key}")
        canonical.add(Relation(rel.total, parts))
    return tuple(sorted(canonical, key=lambda rel: (rel.total, rel.parts)))


def _check_sums(values: Mapping[CellKey, int], relations: Iterable[Relation]) -> None:
    """The true counts must satisfy every relation: the audit relies on them being a solution."""
    for rel in relations:
        parts = sum(values[part] for part in rel.parts)
        if values[rel.total] != parts:
            raise ValueError(f"relation {rel}: total {values[rel.total]} != sum of parts {parts}")


# --- choosing the complements ----------------------------------------------------------------


def _domain(primary: bool, threshold: int, cap: int) -> tuple[int, int]:
    """What the reader knows of a hidden cell before looking at any relation."""
    return (1, threshold - 1) if primary else (threshold, max(cap, threshold))


class _Table:
    """One table being suppressed: the greedy choice of complements and the audit loop."""

    def __init__(
        self, values: Mapping[CellKey, int], relations: tuple[Relation, ...], threshold: int
    ) -> None:
        self.values = values
        self.relations = relations
        self.threshold = threshold
        self.cap = 2 * max(values.values(), default=0) + threshold
        self.cell_relations: dict[CellKey, list[int]] = {}
        for index, rel in enumerate(relations):
            for key in rel.members:
                self.cell_relations.setdefault(key, []).append(index)
        self._audits: dict[tuple[CellKey, ...], frozenset[CellKey]] = {}

    def complements(self, primary: frozenset[CellKey]) -> frozenset[CellKey]:
        """Add complements until the audit finds no exposed cell (or proves that none can help).

        Each round adds one cell, so the loop ends; a group of hidden cells whose relations have
        no visible non-zero member left cannot change any more (zeros are never hidden), so its
        exposed cells are final.
        """
        hidden = set(primary)
        exposed_for_good: set[CellKey] = set()
        while hidden:
            self._pair_singletons(hidden)
            added = False
            for cells, indices in _components(hidden, self.relations):
                exposed = self._audit(cells, indices)
                if not exposed:
                    continue
                partner = self._repair_partner(indices, exposed, hidden)
                if partner is None:
                    exposed_for_good |= exposed
                    continue
                hidden.add(partner)
                added = True
                break
            if not added:
                break
        if exposed_for_good:
            raise UnprotectableTable(frozenset(exposed_for_good))
        return self._pruned(frozenset(hidden), primary) - primary

    def _pruned(
        self, hidden: frozenset[CellKey], primary: frozenset[CellKey]
    ) -> frozenset[CellKey]:
        """Give back complements the final pattern does not need, largest count first.

        The greedy choice is made one cell at a time; a later complement can make an earlier
        one unnecessary. Each removal is kept only if the exact audit still passes.
        """
        for key in sorted(hidden - primary, key=lambda k: (-self.values[k], k)):
            trial = hidden - {key}
            if self._leaves_a_lone_cell(key, trial):
                continue  # cheap: that cell would be given away by subtraction
            if all(not self._audit(*group) for group in _components(trial, self.relations)):
                hidden = trial
        return hidden

    def _leaves_a_lone_cell(self, key: CellKey, hidden: frozenset[CellKey]) -> bool:
        """Whether un-hiding `key` leaves one of its relations with exactly one hidden member."""
        return any(
            sum(m in hidden for m in self.relations[i].members) == 1
            for i in self.cell_relations.get(key, ())
        )

    def _pair_singletons(self, hidden: set[CellKey]) -> None:
        """A relation with exactly one hidden member gives it away by subtraction: pair it.

        Cheap first pass before the exact audit; it settles most of a real table.
        """
        stuck: set[int] = set()
        while True:
            index = next(
                (
                    i
                    for i, rel in enumerate(self.relations)
                    if i not in stuck and sum(m in hidden for m in rel.members) == 1
                ),
                None,
            )
            if index is None:
                return
            partner = self._best_partner(index, hidden)
            if partner is None:
                stuck.add(index)  # the audit will find the cell exposed and look further
            else:
                hidden.add(partner)

    def _best_partner(self, index: int, hidden: set[CellKey]) -> CellKey | None:
        """The cheapest visible non-zero member to hide alongside the relation's hidden one.

        Preferred: a partner that leaves both cells loose within this relation (a 1 and a 5
        adding up to a shown 6 would pin each other), then the smallest count (least
        information lost), then one that settles other lone hidden cells rather than creating
        new ones, then the key, for determinism.
        """
        rel = self.relations[index]
        options = [m for m in rel.members if m not in hidden and self.values[m] > 0]
        if not options:
            return None

        def cost(key: CellKey) -> tuple[bool, int, int, CellKey]:
            loose = self._loose_within(rel, hidden | {key})
            return (not loose, self.values[key], self._cascade(key, index, hidden), key)

        return min(options, key=cost)

    def _loose_within(self, rel: Relation, hidden: set[CellKey]) -> bool:
        """Whether every hidden member of `rel` keeps two values, looking at `rel` alone.

        Only a preference between partners (the audit decides safety), so running out of its
        small budget just means "no".
        """
        cells = tuple(m for m in rel.members if m in hidden)
        bounds = [self._bounds(m) for m in cells]
        problem = _Problem.build(cells, bounds, self.values, [rel])
        try:
            lo, hi = problem.root_bounds(_Budget(1_000))
        except _BudgetExhausted:
            return False
        return lo is not None and hi is not None and all(a < b for a, b in zip(lo, hi, strict=True))

    def _cascade(self, key: CellKey, index: int, hidden: set[CellKey]) -> int:
        """Lone hidden cells created (+1) or settled (-1) elsewhere by hiding `key`."""
        change = 0
        for other in self.cell_relations.get(key, ()):
            if other != index:
                count = sum(m in hidden for m in self.relations[other].members if m != key)
                change += 1 if count == 0 else -1 if count == 1 else 0
        return change

    def _repair_partner(
        self, indices: Sequence[int], exposed: frozenset[CellKey], hidden: set[CellKey]
    ) -> CellKey | None:
        """The next complement for a group with exposed cells: smallest count first.

        Looked for in the relations of the exposed cells, then in all relations of the group.
        None when every member of those relations is hidden or zero: nothing can help then.
        """
        near = [i for i in indices if any(m in exposed for m in self.relations[i].members)]
        for scope in (near, indices):
            options = {
                m
                for i in scope
                for m in self.relations[i].members
                if m not in hidden and self.values[m] > 0
            }
            if options:

                def cost(key: CellKey) -> tuple[int, int, CellKey]:
                    hits = sum(key in self.relations[i].members for i in near)
                    return (self.values[key], -hits, key)

                return min(options, key=cost)
        return None

    def _bounds(self, key: CellKey) -> tuple[int, int]:
        return _domain(1 <= self.values[key] < self.threshold, self.threshold, self.cap)

    def _audit(self, cells: tuple[CellKey, ...], indices: Sequence[int]) -> frozenset[CellKey]:
        """The hidden cells of one group that the reader could pin to a single value.

        Exact within the search budget; cells the budget leaves unsettled count as pinned.
        Cached: a group's answer depends only on its cells.
        """
        cached = self._audits.get(cells)
        if cached is not None:
            return cached
        bounds = [self._bounds(cell) for cell in cells]
        problem = _Problem.build(cells, bounds, self.values, [self.relations[i] for i in indices])
        spend = _Budget(AUDIT_BUDGET)
        try:
            lo, hi = problem.root_bounds(spend)
        except _BudgetExhausted:
            lo = hi = None
        if lo is None or hi is None:
            exposed = frozenset(cells)
        else:
            truth = [self.values[cell] for cell in cells]
            found, _ = _collect(problem, lo, hi, truth, 2, spend)
            exposed = frozenset(c for c, seen in zip(cells, found, strict=True) if len(seen) < 2)
        self._audits[cells] = exposed
        return exposed


def _components(
    hidden: Iterable[CellKey], relations: Sequence[Relation]
) -> list[tuple[tuple[CellKey, ...], tuple[int, ...]]]:
    """Groups of hidden cells linked by relations, each with the relations that touch it.

    Groups are independent: no relation holds cells of two groups, so each is audited alone.
    """
    parent = {cell: cell for cell in hidden}

    def root(cell: CellKey) -> CellKey:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    touching: list[int] = []
    for index, rel in enumerate(relations):
        members = [m for m in rel.members if m in parent]
        if members:
            touching.append(index)
            for other in members[1:]:
                parent[root(other)] = root(members[0])
    groups: dict[CellKey, list[CellKey]] = {}
    for cell in sorted(parent):
        groups.setdefault(root(cell), []).append(cell)
    by_root: dict[CellKey, list[int]] = {top: [] for top in groups}
    for index in touching:
        first = next(m for m in relations[index].members if m in parent)
        by_root[root(first)].append(index)
    return [(tuple(groups[top]), tuple(by_root[top])) for top in groups]


# --- the exact audit: integer search with bounds propagation --------------------------------


class _BudgetExhausted(Exception):
    pass


class _Budget:
    """Work units left for one search; exhaustion aborts it (the caller then assumes the worst)."""

    __slots__ = ("left",)

    def __init__(self, units: int) -> None:
        self.left = units

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _BudgetExhausted


_Constraint = tuple[tuple[int, ...], tuple[int, ...], int]
"""sum(coefficient * variable) == right-hand side; coefficients are +1 (parts) or -1 (total)."""


@dataclass(frozen=True, slots=True)
class _Problem:
    """Hidden cells as integer variables with the reader's bounds; relations as equations."""

    cells: tuple[CellKey, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    constraints: tuple[_Constraint, ...]
    watchers: tuple[tuple[int, ...], ...]
    """Per variable, the constraints it appears in."""

    @staticmethod
    def build(
        cells: Sequence[CellKey],
        bounds: Sequence[tuple[int, int]],
        visible: Mapping[CellKey, int],
        relations: Iterable[Relation],
    ) -> _Problem:
        """Every member of a relation not in `cells` is a shown count taken from `visible`."""
        index = {cell: i for i, cell in enumerate(cells)}
        constraints: list[_Constraint] = []
        watchers: list[list[int]] = [[] for _ in cells]
        for rel in relations:
            variables: list[int] = []
            coefficients: list[int] = []
            rhs = 0
            for key, coefficient in ((rel.total, -1), *((part, 1) for part in rel.parts)):
                if key in index:
                    variables.append(index[key])
                    coefficients.append(coefficient)
                else:
                    rhs -= coefficient * visible[key]
            if variables:
                for variable in variables:
                    watchers[variable].append(len(constraints))
                constraints.append((tuple(variables), tuple(coefficients), rhs))
        return _Problem(
            cells=tuple(cells),
            lo=tuple(low for low, _ in bounds),
            hi=tuple(high for _, high in bounds),
            constraints=tuple(constraints),
            watchers=tuple(tuple(w) for w in watchers),
        )

    def root_bounds(self, spend: _Budget) -> tuple[list[int] | None, list[int] | None]:
        """The reader's bounds tightened by every relation; (None, None) if nothing fits."""
        lo, hi = list(self.lo), list(self.hi)
        if _propagate(self, lo, hi, range(len(self.constraints)), spend):
            return lo, hi
        return None, None


def _propagate(
    problem: _Problem, lo: list[int], hi: list[int], queue: Iterable[int], spend: _Budget
) -> bool:
    """Tighten lo/hi in place until every equation is bounds-consistent; False if one fails.

    For sum(a_i x_i) = b, each term lies between b minus the largest and b minus the smallest
    possible sum of the other terms. This is how a shown total bounds its hidden parts, and a
    hidden total is bounded through the next shown total above it.
    """
    constraints = problem.constraints
    work = sorted(set(queue), reverse=True)
    pending = set(work)
    while work:
        c = work.pop()
        pending.discard(c)
        spend.spend()
        variables, coefficients, rhs = constraints[c]
        low_sum = high_sum = 0
        for v, a in zip(variables, coefficients, strict=True):
            if a > 0:
                low_sum += lo[v]
                high_sum += hi[v]
            else:
                low_sum -= hi[v]
                high_sum -= lo[v]
        if low_sum > rhs or high_sum < rhs:
            return False
        for v, a in zip(variables, coefficients, strict=True):
            if a > 0:
                new_lo = max(lo[v], rhs - high_sum + hi[v])
                new_hi = min(hi[v], rhs - low_sum + lo[v])
            else:
                new_lo = max(lo[v], low_sum + hi[v] - rhs)
                new_hi = min(hi[v], high_sum + lo[v] - rhs)
            if new_lo > new_hi:
                return False
            if new_lo != lo[v] or new_hi != hi[v]:
                lo[v], hi[v] = new_lo, new_hi
                for other in problem.watchers[v]:
                    if other not in pending:
                        pending.add(other)
                        work.append(other)
    return True


def _branches(lo: int, hi: int, anchor: int) -> list[tuple[int, int]]:
    """How to split a domain: values near the anchor first, wide ranges halved.

    Trying the anchor (the true value, in an audit) first finds nearby alternative solutions
    fast; halving keeps the depth logarithmic when a wide range must be ruled out.
    """
    if hi - lo < 4:
        return [(v, v) for v in sorted(range(lo, hi + 1), key=lambda v: (abs(v - anchor), v))]
    if anchor <= lo:
        mid = (lo + 1 + hi) // 2
        return [(lo, lo), (lo + 1, mid), (mid + 1, hi)]
    if anchor >= hi:
        mid = (lo + hi - 1) // 2
        return [(hi, hi), (mid + 1, hi - 1), (lo, mid)]
    return [(anchor, anchor), (anchor + 1, hi), (lo, anchor - 1)]


def _search(
    problem: _Problem, lo: list[int], hi: list[int], anchor: Sequence[int], spend: _Budget
) -> list[int] | None:
    """One integer solution within lo..hi (depth first, explicit stack), or None if none."""
    stack: list[tuple[list[int], list[int], Iterable[int]]] = [
        (lo, hi, range(len(problem.constraints)))
    ]
    while stack:
        low, high, queue = stack.pop()
        if not _propagate(problem, low, high, queue, spend):
            continue
        open_ = [v for v in range(len(low)) if low[v] < high[v]]
        if not open_:
            return low
        var = min(open_, key=lambda v: (high[v] - low[v], v))
        for b_lo, b_hi in reversed(_branches(low[var], high[var], anchor[var])):
            next_lo, next_hi = low.copy(), high.copy()
            next_lo[var], next_hi[var] = b_lo, b_hi
            stack.append((next_lo, next_hi, problem.watchers[var]))
    return None


def _collect(
    problem: _Problem,
    lo: list[int],
    hi: list[int],
    seed: Sequence[int],
    limit: int,
    spend: _Budget,
) -> tuple[list[set[int]], bool]:
    """Up to `limit` values per variable, from solutions that differ from those seen so far.

    Each solution found counts for every variable, so most cells are settled by the searches
    for others. The bool is False when the budget ran out (the sets are then incomplete).
    """
    found = [{value} for value in seed]
    try:
        for var in range(len(seed)):
            while len(found[var]) < limit:
                solution = _other_solution(problem, lo, hi, var, found[var], seed, spend)
                if solution is None:
                    break
                for other, value in enumerate(solution):
                    if len(found[other]) < limit:
                        found[other].add(value)
    except _BudgetExhausted:
        return found, False
    return found, True


def _other_solution(
    problem: _Problem,
    lo: list[int],
    hi: list[int],
    var: int,
    known: set[int],
    anchor: Sequence[int],
    spend: _Budget,
) -> list[int] | None:
    """A solution giving `var` a value not in `known`: above them, below them, then between."""
    for w_lo, w_hi in _windows(lo[var], hi[var], known):
        low, high = lo.copy(), hi.copy()
        low[var], high[var] = w_lo, w_hi
        solution = _search(problem, low, high, anchor, spend)
        if solution is not None:
            return solution
    return None


def _windows(lo: int, hi: int, known: set[int]) -> Iterator[tuple[int, int]]:
    top, bottom = max(known), min(known)
    if top < hi:
        yield (max(top + 1, lo), hi)
    if bottom > lo:
        yield (lo, min(bottom - 1, hi))
    for value in range(max(bottom + 1, lo), min(top, hi + 1)):
        if value not in known:
            yield (value, value)
