"""Console accounts: adding one, with its first password and its TOTP secret (data function)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit, totp
from services.console.accounts.passwords import STANDARD_HASHER, hash_password, new_password
from services.console.models import ConsoleUser
from shared.errors import Conflict, InvalidInput
from shared.policy import Role

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
"""Something, one @, a domain with at least one dot: enough to catch a slip of the keyboard."""


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What the new user is given, once: none of it can be read back later but the id."""

    user_id: uuid.UUID
    email: str
    password: str
    totp_secret: str
    totp_uri: str


def normalised_email(email: str) -> str:
    """Emails are kept and compared lower-case, without surrounding spaces."""
    return email.strip().lower()


async def add_user(
    session: AsyncSession,
    *,
    agency: str,
    role: str,
    name: str,
    email: str,
    now: datetime,
    agencies: Collection[str],
    added_by: str = "operator",
    hasher: PasswordHasher = STANDARD_HASHER,
) -> NewAccount:
    """Add an account of `agency` (one of `agencies`) and `role` (a `Role` value).

    Raises `InvalidInput` for a bad agency, role, name or email and `Conflict` when the email
    already has an account; nothing is added then. The caller commits.
    """
    address = normalised_email(email)
    display_name = name.strip()
    if agency not in agencies:
        raise InvalidInput(f"unknown agency {agency!r}; known: {', '.join(sorted(agencies))}")
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}")
    if not display_name or len(display_name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the name must be 1 to {MAX_NAME_LENGTH} characters")
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(address):
        raise InvalidInput(f"{email.strip()!r} is not an email address like name@agency.gov")
    if await session.scalar(select(exists().where(ConsoleUser.email == address))):
        raise Conflict(f"{address} already has an account")

    password = new_password()
    secret = totp.new_secret()
    user = ConsoleUser(
        id=uuid.uuid4(),
        agency=agency,
        role=Role(role).value,
        name=display_name,
        email=address,
        password_hash=await asyncio.to_thread(hash_password, password, hasher),
        totp_secret=secret,
        last_totp_step=0,
        failed_attempts=0,
        created_at=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"{address} already has an account") from error
    audit.record(
        session,
        at=now,
        actor=added_by,
        action="user.added",
        agency=agency,
        user_id=user.id,
        object_type="console_user",
        object_id=str(user.id),
        detail={"role": user.role},
    )
    return NewAccount(
        user_id=user.id,
        email=address,
        password=password,
        totp_secret=secret,
        totp_uri=totp.enrolment_uri(secret, address, agency),
    )
