"""Issuing and checking bearer tokens and CAD signing secrets (data functions; never commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import ApiToken, CadSecret
from services.intake.token_codec import new_cad_secret, new_token, token_hash
from shared.policy import Role

CAD_SECRET_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a token's holder, a person signed in to the console, or an agency's
    CAD system."""

    agency: str
    role: str
    name: str
    token_id: uuid.UUID | None = None
    console_user_id: uuid.UUID | None = None

    @property
    def via(self) -> Literal["api", "cad", "console"]:
        if self.console_user_id is not None:
            return "console"
        return "api" if self.token_id is not None else "cad"

    @property
    def sees_every_incident(self) -> bool:
        """Coordinators and managers see everything about activations (CONTRACT §1)."""
        return self.role in (Role.COORDINATOR, Role.MANAGER)


async def issue_token(
    session: AsyncSession, *, agency: str, role: Role, name: str, phone: str | None, now: datetime
) -> str:
    """Store a new token's hash and return the token itself (shown once, never stored)."""
    token = new_token()
    session.add(
        ApiToken(
            id=uuid.uuid4(),
            agency=agency,
            role=role.value,
            name=name,
            phone=phone,
            token_hash=token_hash(token),
            created_at=now,
        )
    )
    return token


async def caller_for_token(session: AsyncSession, token: str) -> Caller | None:
    row = (
        await session.execute(
            select(ApiToken.id, ApiToken.agency, ApiToken.role, ApiToken.name).where(
                ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return Caller(agency=row.agency, role=row.role, name=row.name, token_id=row.id)


async def rotate_cad_secret(
    session: AsyncSession, *, agency: str, now: datetime, grace: timedelta = CAD_SECRET_GRACE
) -> str:
    """A new secret for the agency; the ones still valid stay so for `grace` more."""
    await session.execute(
        update(CadSecret)
        .where(
            CadSecret.agency == agency,
            or_(CadSecret.valid_until.is_(None), CadSecret.valid_until > now + grace),
        )
        .values(valid_until=now + grace)
    )
    secret = new_cad_secret()
    session.add(CadSecret(agency=agency, secret=secret, created_at=now, valid_until=None))
    return secret


@dataclass(frozen=True, slots=True)
class CadSecretRow:
    secret: str
    valid_until: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.valid_until is None or self.valid_until > now


async def valid_cad_secrets(
    session: AsyncSession, *, agency: str, now: datetime
) -> list[CadSecretRow]:
    """The agency's secrets valid at `now`, newest first, with when each stops being valid."""
    rows = await session.execute(
        select(CadSecret.secret, CadSecret.valid_until)
        .where(
            CadSecret.agency == agency,
            or_(CadSecret.valid_until.is_(None), CadSecret.valid_until > now),
        )
        .order_by(CadSecret.id.desc())
    )
    return [CadSecretRow(row.secret, row.valid_until) for row in rows]
