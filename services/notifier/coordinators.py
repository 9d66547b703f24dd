"""Who is texted when a coordinator must know now: the agency's coordinators and managers whose
bearer token carries a phone (intake's `api_tokens`, read only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import ApiToken

COORDINATOR_ROLES = ("coordinator", "manager")


async def coordinator_phones(session: AsyncSession, *, agency: str) -> list[str]:
    """The distinct phones of the agency's unrevoked coordinator and manager tokens."""
    rows = await session.scalars(
        select(ApiToken.phone)
        .where(
            ApiToken.agency == agency,
            ApiToken.role.in_(COORDINATOR_ROLES),
            ApiToken.phone.is_not(None),
            ApiToken.revoked_at.is_(None),
        )
        .distinct()
        .order_by(ApiToken.phone)
    )
    return [phone for phone in rows if phone]
