"""A multi-row insert refuses a value too long for its column, as a single-row INSERT does,
instead of storing it cut short (asyncpg's dialect casts each array parameter to its type)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.exc import DBAPIError

from shared.db.array_inserts import array_insert, array_parameters
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work

NAMES = Table(
    "array_insert_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(5)),
)
INSERT = array_insert(NAMES, ("id", "name"), prefix="probe")


async def test_values_that_fit_are_stored_in_order_and_a_longer_one_is_refused(
    database_url: str,
) -> None:
    engine = build_engine(database_url)
    sessions = build_session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            await session.execute(
                text("CREATE TABLE array_insert_probe (id int PRIMARY KEY, name varchar(5))")
            )
            rows = [{"id": 1, "name": "ab"}, {"id": 2, "name": "abcde"}]
            await session.execute(INSERT, array_parameters(rows, ("id", "name"), prefix="probe"))
            await session.commit()
        with pytest.raises(DBAPIError, match="too long"):
            async with unit_of_work(sessions) as session:
                rows = [{"id": 3, "name": "abcdef"}]
                await session.execute(
                    INSERT, array_parameters(rows, ("id", "name"), prefix="probe")
                )
        async with unit_of_work(sessions) as session:
            stored = (
                await session.execute(text("SELECT id, name FROM array_insert_probe ORDER BY id"))
            ).all()
        assert [tuple(row) for row in stored] == [(1, "ab"), (2, "abcde")]
    finally:
        await engine.dispose()
