"""The console's audit log: sign-ins, failures, lock-outs, and every read and action.

`record` only adds the row to the caller's unit of work. `detail` holds short facts (a reason
code, a count, an id), never a password, a code, a token or text someone typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.console.models import ConsoleAuditEntry

Outcome = Literal["ok", "refused", "failed"]
"""`refused`: not allowed (locked, disabled, forbidden); `failed`: wrong credentials or input."""

DetailValue = str | int | float | bool | None
MAX_DETAIL_TEXT = 64
"""Longest string value in `detail`: room for an id or a reason code, not for free text."""


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    agency: str | None = None,
    user_id: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: Outcome = "ok",
    detail: Mapping[str, DetailValue | list[DetailValue]] | None = None,
) -> ConsoleAuditEntry:
    """Add one audit row; `actor` is whom it names (the user's name, or who ran a command)."""
    facts = dict(detail or {})
    for key, value in facts.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) > MAX_DETAIL_TEXT:
                raise ValueError(f"audit detail {key!r} is too long for a fact ({len(item)})")
    entry = ConsoleAuditEntry(
        at=at,
        agency=agency,
        user_id=user_id,
        actor=actor[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=facts,
    )
    session.add(entry)
    return entry


class Person(Protocol):
    """Who is signed in, as far as the audit log names them (`sessions.SignedIn`)."""

    @property
    def user_id(self) -> uuid.UUID: ...
    @property
    def agency(self) -> str: ...
    @property
    def name(self) -> str: ...


def record_by(
    session: AsyncSession,
    person: Person,
    action: str,
    *,
    at: datetime,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: Mapping[str, DetailValue | list[DetailValue]] | None = None,
) -> ConsoleAuditEntry:
    """One row for what a signed-in person read or did."""
    return record(
        session,
        at=at,
        actor=person.name,
        action=action,
        agency=person.agency,
        user_id=person.user_id,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
