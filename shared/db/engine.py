"""Building the database engine and its session factory (called from composition roots only)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def build_engine(url: str, *, pool_size: int = 20, application_name: str = "pst") -> AsyncEngine:
    """`pool_size` covers a service's usual concurrency (consumer partitions side by side,
    sender workers, relay, requests): a connection opened past it is closed again on return,
    and opening one costs a handshake and re-preparing every statement."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # no ping per checkout (a round trip per request): after a database restart a stale
        # connection fails once, the pool is discarded, and the caller retries (503/transient)
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": application_name},
            "timeout": 5,
            "command_timeout": 30,
        },
    )


def build_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
