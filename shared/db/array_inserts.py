"""Multi-row INSERTs whose SQL does not depend on how many rows they insert.

`INSERT … VALUES (…), (…)` is new SQL for every row count, and SQLAlchemy compiles it anew on
every execution (multi-row VALUES are not cached). `INSERT … SELECT FROM unnest(:a, :b, …)`
takes one array per column instead: built once, compiled once, prepared once per connection,
and the rows come out of `unnest` in their order in the arrays.

The arrays are typed without their columns' lengths (`array_of`): asyncpg's dialect casts each
parameter to its type, and an explicit cast to `varchar(64)[]` cuts a longer value short where
the single-row INSERT refuses it. Uncut, the INSERT's assignment to the column refuses it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Enum, String, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.types import TypeEngine


def array_of(column_type: TypeEngine[Any]) -> ARRAY[Any]:
    """The type of an array parameter for a column of `column_type`: without its length, so
    that a value too long for the column is refused, not cut short, when it is stored."""
    if (
        isinstance(column_type, String)
        and not isinstance(column_type, Enum)
        and column_type.length is not None
    ):
        return ARRAY(String())
    return ARRAY(column_type)


def array_insert(table: Table, columns: Sequence[str], *, prefix: str) -> Insert:
    """INSERT INTO `table` (`columns`) the rows of the bind parameters `{prefix}_{column}`,
    one array per column (see `array_parameters`)."""
    rows = (
        func.unnest(
            *(bindparam(f"{prefix}_{name}", type_=array_of(table.c[name].type)) for name in columns)
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
