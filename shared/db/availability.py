"""Telling "the database is away for now" from every other database error.

Loops retry the first kind for as long as it takes and intake answers it with 503; anything else
is a bug or a bad statement. asyncpg's errors reach SQLAlchemy's asyncpg dialect as a bare
`DBAPIError` unless they are integrity or syntax errors, so the SQLSTATE is what tells: while
PostgreSQL starts up or shuts down it refuses connections with 57P03, and it ends them with
57P01 or 57P02.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

UNAVAILABLE_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping (or the backend was terminated)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up, shutting down, in recovery
        "53300",  # too_many_connections
    }
)
CONNECTION_EXCEPTION_CLASS = "08"


def database_unavailable(error: BaseException) -> bool:
    """True when `error` says the database cannot serve us right now, not that we erred."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return isinstance(sqlstate, str) and (
        sqlstate.startswith(CONNECTION_EXCEPTION_CLASS) or sqlstate in UNAVAILABLE_SQLSTATES
    )
