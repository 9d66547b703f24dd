"""A database URL with a percent-encoded password reaches Alembic unchanged (its options are
ConfigParser values, where a bare % would be interpolation)."""

from __future__ import annotations

from shared.db.migrate import alembic_config

URL = "postgresql+asyncpg://pst:p%40ss%25word@db.example.org:5432/pst?ssl=require"


def test_a_percent_encoded_password_is_read_back_as_given() -> None:
    assert alembic_config(URL).get_main_option("sqlalchemy.url") == URL
