"""What the dispatcher decided and who it assigned, per incident: written by the dispatcher,
read by intake (`GET /v1/incidents/{id}`) and the coordinators' console.

The database itself keeps the paging promises of CONTRACT §6, whatever the code does and however
many dispatchers run: a specialist has at most one assignment per incident
(unique incident_id, member_id), and at most N assignments of an incident are open at once,
because each open one holds a numbered place (`slot` 1..N, unique among the incident's open
assignments, and never above the cap `slot_cap` the row was created under).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base

OPEN_STATE_NAMES = ("awaiting_approval", "paged", "calling", "accepted")
"""The states that hold one of the incident's N places (CONTRACT §6.3; `assignment_states`)."""

ALL_STATE_NAMES = (*OPEN_STATE_NAMES, "declined", "timed_out", "cancelled")

_OPEN_SQL = ", ".join(f"'{name}'" for name in OPEN_STATE_NAMES)
_ALL_SQL = ", ".join(f"'{name}'" for name in ALL_STATE_NAMES)


class ActivationDecision(Base):
    """The newest decision (CONTRACT §4) for an incident, with what paging needs of its report."""

    __tablename__ = "activation_decisions"

    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    activate: Mapped[bool] = mapped_column(Boolean)
    criteria: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    specialists: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reporter_role: Mapped[str] = mapped_column(String(32))
    page_facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """What a page may say (shared.events.PageFacts): time, place, kind; never names."""
    involved_member_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    """Members listed in the report (themselves or their family): never paged for it."""
    alerted_shortfall: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Places no one was left for when the coordinators were last told (0: none missing)."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the team was stood down: nobody more is paged for the incident."""
    closed_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("specialists >= 0", name="specialists_not_negative"),)


class Assignment(Base):
    """One specialist asked to support one incident, in a state of CONTRACT §6.6."""

    __tablename__ = "assignments"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("activation_decisions.incident_id")
    )
    agency: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(32))
    slot: Mapped[int] = mapped_column(Integer)
    slot_cap: Mapped[int] = mapped_column(Integer)
    overtime_eligible: Mapped[bool] = mapped_column(Boolean)
    remind_supervisor: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("incident_id", "member_id"),
        CheckConstraint(f"state IN ({_ALL_SQL})", name="known_state"),
        CheckConstraint("slot >= 1 AND slot <= slot_cap", name="slot_within_cap"),
        Index(
            "uq_assignments_open_slot",
            "incident_id",
            "slot",
            unique=True,
            postgresql_where=text(f"state IN ({_OPEN_SQL})"),
        ),
        Index("ix_assignments_member", "agency", "member_id", "state"),
    )


class CoordinatorAlert(Base):
    """Something the coordinators must know now; `dedupe_key` makes each one raised once."""

    __tablename__ = "coordinator_alerts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class ActivationView:
    """An incident's decision and assignments, as `GET /v1/incidents/{id}` shows them."""

    incident_id: uuid.UUID
    agency: str
    revision: int
    status: str
    decision: dict[str, Any]
    decided_at: datetime
    assignments: list[dict[str, Any]]
    """`[{member_id, state, paged_at, responded_at}]`, oldest first; times are aware datetimes."""


async def activation_view(session: AsyncSession, incident_id: uuid.UUID) -> ActivationView | None:
    """The incident's newest decision and its assignments; None before the dispatcher decided."""
    decision = await session.get(ActivationDecision, incident_id)
    if decision is None:
        return None
    rows = (
        await session.execute(
            select(
                Assignment.member_id,
                Assignment.state,
                Assignment.paged_at,
                Assignment.responded_at,
            )
            .where(Assignment.incident_id == incident_id)
            .order_by(Assignment.created_at, Assignment.member_id)
        )
    ).all()
    return ActivationView(
        incident_id=decision.incident_id,
        agency=decision.agency,
        revision=decision.revision,
        status=decision.status,
        decision=dict(decision.decision),
        decided_at=decision.decided_at,
        assignments=[
            {
                "member_id": row.member_id,
                "state": row.state,
                "paged_at": row.paged_at,
                "responded_at": row.responded_at,
            }
            for row in rows
        ],
    )
