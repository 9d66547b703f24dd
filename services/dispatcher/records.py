"""Storing, reading and locking an incident's decision and assignments (data functions: no
commits), as plain rows of the columns the dispatcher uses.

Every change to an incident's assignments first locks its decision row, so the dispatchers of
a consumer group (and their timer loops) take their turns on one incident; the database's
constraints stay the last word should anything skip the lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.tables import ASSIGNMENTS, DECISIONS
from shared.processed_events import CLAIM


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """What paging needs of an incident's stored decision."""

    incident_id: uuid.UUID
    agency: str
    activate: bool
    specialists: int
    involved_member_ids: Sequence[str]
    page_facts: Mapping[str, Any]
    """What a page may say (shared.events.PageFacts): time, place, kind; never names."""
    alerted_shortfall: int
    """Places no one was left for when the coordinators were last told (0: none missing)."""
    closed_at: datetime | None = None
    """When the team was stood down: nobody more is paged for the incident."""


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """What moving and paging need of one assignment."""

    id: uuid.UUID
    incident_id: uuid.UUID
    agency: str
    member_id: str
    phone: str
    state: AssignmentState
    slot: int
    remind_supervisor: bool
    created_at: datetime


_DECISION = tuple(DECISIONS.c[field.name] for field in fields(DecisionRow))

ASSIGNMENT_COLUMNS = (
    ASSIGNMENTS.c.id,
    ASSIGNMENTS.c.incident_id,
    ASSIGNMENTS.c.agency,
    ASSIGNMENTS.c.member_id,
    ASSIGNMENTS.c.phone,
    ASSIGNMENTS.c.state,
    ASSIGNMENTS.c.slot,
    ASSIGNMENTS.c.remind_supervisor,
    ASSIGNMENTS.c.created_at,
)
"""The columns `assignment_from` reads, in its order."""


def assignment_from(row: Sequence[Any]) -> AssignmentRow:
    """An `AssignmentRow` from the values of `ASSIGNMENT_COLUMNS`, in that order."""
    id_, incident_id, agency, member_id, phone, state, slot, remind, created_at = row
    return AssignmentRow(
        id=id_,
        incident_id=incident_id,
        agency=agency,
        member_id=member_id,
        phone=phone,
        state=AssignmentState(state),
        slot=slot,
        remind_supervisor=remind,
        created_at=created_at,
    )


_LOCK_DECISION = (
    select(*_DECISION).where(DECISIONS.c.incident_id == bindparam("incident_id")).with_for_update()
)

_LOCK_ASSIGNMENT = (
    select(*ASSIGNMENT_COLUMNS)
    .where(ASSIGNMENTS.c.id == bindparam("assignment_id"))
    .with_for_update()
)

_NOT_DECIDED = frozenset({"alerted_shortfall", "closed_at", "closed_by"})
"""Columns a decision does not set: kept as they are when a newer revision is stored."""
_STORED_COLUMNS = tuple(column.name for column in DECISIONS.c if column.name not in _NOT_DECIDED)
_CLAIMED = select(CLAIM.cte("claim").c.event_id).exists()
_NEW_DECISION = insert(DECISIONS).from_select(
    list(_STORED_COLUMNS),
    select(
        *(bindparam(f"decision_{name}", type_=DECISIONS.c[name].type) for name in _STORED_COLUMNS)
    ).where(_CLAIMED),
    include_defaults=False,  # alerted_shortfall starts at its server default, 0
)
_STORE_NEWER_DECISION = _NEW_DECISION.on_conflict_do_update(
    index_elements=[DECISIONS.c.incident_id],
    set_={name: _NEW_DECISION.excluded[name] for name in _STORED_COLUMNS if name != "incident_id"},
    where=DECISIONS.c.revision < _NEW_DECISION.excluded.revision,
).returning(DECISIONS.c.alerted_shortfall, DECISIONS.c.closed_at)


async def lock_decision(session: AsyncSession, incident_id: uuid.UUID) -> DecisionRow | None:
    """The incident's decision, locked for this transaction; None if none was made yet."""
    row = (await session.execute(_LOCK_DECISION, {"incident_id": incident_id})).one_or_none()
    return None if row is None else DecisionRow(**row._asdict())


async def store_newer_decision(
    session: AsyncSession, values: Mapping[str, Any], *, claim: Mapping[str, str]
) -> DecisionRow | None:
    """Claim the event (`claim`: `claim_parameters`) and store its decision `values` (every
    column of `activation_decisions` but `alerted_shortfall` and the closing) unless the event
    was claimed before or the stored decision is of the same or a newer revision; None then.

    One statement takes the place of claim, lock, insert-if-missing and update: an insert that
    meets the stored row locks it whether it replaces it or not, so this is also the incident's
    lock.
    """
    if set(values) != set(_STORED_COLUMNS):
        raise ValueError(f"a decision has the columns {sorted(_STORED_COLUMNS)}")
    parameters = {f"decision_{name}": value for name, value in values.items()}
    stored = (await session.execute(_STORE_NEWER_DECISION, {**claim, **parameters})).one_or_none()
    if stored is None:
        return None
    return DecisionRow(
        incident_id=values["incident_id"],
        agency=values["agency"],
        activate=values["activate"],
        specialists=values["specialists"],
        involved_member_ids=values["involved_member_ids"],
        page_facts=values["page_facts"],
        alerted_shortfall=stored.alerted_shortfall,
        closed_at=stored.closed_at,
    )


async def lock_assignment(session: AsyncSession, assignment_id: uuid.UUID) -> AssignmentRow | None:
    row = (await session.execute(_LOCK_ASSIGNMENT, {"assignment_id": assignment_id})).one_or_none()
    return None if row is None else assignment_from(row)
