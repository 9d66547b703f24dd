"""Multi-row INSERTs whose SQL does not depend on how many rows they insert.

`INSERT … VALUES (…), (…)` is new SQL for every row count, and SQLAlchemy compiles it anew on
every execution (multi-row VALUES are not cached). `INSERT … SELECT FROM unnest(:a, :b, …)`
takes one array per column instead: built once, compiled once, prepared once per connection,
and the rows come out of `unnest` in their order in the arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert


def array_insert(table: Table, columns: Sequence[str], *, prefix: str) -> Insert:
    """INSERT INTO `table` (`columns`) the rows of the bind parameters `{prefix}_{column}`,
    one array per column (see `array_parameters`)."""
    rows = (
        func.unnest(
            *(bindparam(f"{prefix}_{name}", type_=ARRAY(table.c[name].type)) for name in columns)
        )
        .table_valued(*columns)
        .render_derived()
    )
    return insert(table).from_select(list(columns), select(*(rows.c[name] for name in columns)))


def array_parameters(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, prefix: str
) -> dict[str, list[Any]]:
    """The bind parameters of `array_insert(…, columns, prefix=prefix)` for `rows`."""
    return {f"{prefix}_{name}": [row[name] for row in rows] for name in columns}
