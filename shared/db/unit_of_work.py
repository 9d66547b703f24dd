"""One transaction per handler: commit once, roll back by default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import SessionFactory


@asynccontextmanager
async def unit_of_work(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """Yield a session; whatever is not committed when the block ends is rolled back.

    Data functions take the session and never commit: the handler that opened the unit of
    work calls `await session.commit()` once, when its work is complete. Closing the session
    discards an uncommitted transaction; objects read in it stay readable (detached) afterwards.
    """
    async with sessions() as session:
        yield session
