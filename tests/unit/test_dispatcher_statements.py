"""The dispatcher's statements are built once and run with a dict of parameters. SQLAlchemy
reads a parameter named like a column of a table the statement writes as one more column to
set (`UPDATE dispatcher_timers SET assignment_id = …`), silently, in CTEs too: no parameter of
these statements may be so named."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from sqlalchemy import ClauseElement, Executable
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.sql.dml import UpdateBase

from services.dispatcher import (
    alerts,
    assignment_moves,
    incident_handlers,
    outcome_handler,
    records,
    staffing_picture,
    staffing_writes,
    timer_loop,
    timers,
)
from shared import processed_events
from shared.outbox import rows as outbox_rows

MODULES: tuple[ModuleType, ...] = (  # a module before those that import its statements
    processed_events,
    timers,
    outbox_rows,
    records,
    staffing_picture,
    staffing_writes,
    assignment_moves,
    alerts,
    incident_handlers,
    outcome_handler,
    timer_loop,
)


def prebuilt() -> Iterator[tuple[str, ClauseElement]]:
    """Every statement the modules hold, under the name of the first module that holds it."""
    seen: set[int] = set()
    for module in MODULES:
        for name, value in vars(module).items():
            statement = isinstance(value, ClauseElement) and isinstance(value, Executable)
            if statement and id(value) not in seen:
                seen.add(id(value))
                yield f"{module.__name__}.{name}", value


STATEMENTS = dict(prebuilt())


def test_the_statements_are_found() -> None:
    writes = [name for name, statement in STATEMENTS.items() if isinstance(statement, UpdateBase)]
    assert len(writes) >= 8, writes


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_no_parameter_is_read_as_a_column_to_set(name: str) -> None:
    statement = STATEMENTS[name]
    dialect = create_async_engine("postgresql+asyncpg://").dialect
    plain = statement.compile(dialect=dialect)
    given = statement.compile(dialect=dialect, column_keys=list(plain.params))
    assert str(given) == str(plain)
