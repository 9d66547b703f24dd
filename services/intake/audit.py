"""The audit log: who read or changed an incident or a roster, what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.credentials import Caller
from services.intake.models import AuditEntry


def record_audit(
    session: AsyncSession,
    caller: Caller,
    *,
    action: str,
    object_type: str,
    object_id: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=at,
            agency=caller.agency,
            actor=caller.name,
            actor_role=caller.role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
        )
    )
