"""What staffing an incident needs to know, read in one query: the agency's roster as
selection candidates with the activation history the §6.2 order needs, the incident's own
assignments, and the members whose Bureau Director consult was recorded for it.

History is computed by SQL from the assignments table as of `now`. An incident stays "open"
for the 24 hours after a specialist accepted it while its decision still activates: the
contract has no stand-down, so time is what ends a specialist's engagement. Whoever holds such
an acceptance for another incident goes after everyone else (`busy_elsewhere_rank` 2); an
acceptance in the last 24 hours of an incident that no longer activates still places them after
the free ones (rank 1, CONTRACT §6.2). Only accepted pages make history, so only they are read.

One row per member: the roster entry (if any) beside the member's assignment to this incident
(if any), whence the full join: an assignment still holds its place after its member left the
roster.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.records import ASSIGNMENT_COLUMNS, AssignmentRow, assignment_from
from services.dispatcher.selection import ActivationHistory, Candidate, Specialist
from services.dispatcher.tables import APPROVALS, ASSIGNMENTS, DECISIONS, ROSTER

BUSY_WINDOW = timedelta(hours=24)
HISTORY_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class StaffingPicture:
    candidates: list[Candidate]
    """Every roster entry of the agency, with its history of accepted pages elsewhere."""
    assignments: list[AssignmentRow]
    """The incident's assignments in any state, oldest first."""
    approved: frozenset[str]
    """Members whose Bureau Director consult a coordinator recorded for this incident."""


def _picture_query() -> tuple[Select[Any], int, int]:
    """The query (parameters: agency, incident_id, now, busy_since, history_since), and how
    many of its leading columns are the candidate's, then the assignment's
    (`ASSIGNMENT_COLUMNS`); the last one says whether the member is approved."""
    agency = bindparam("agency", type_=ROSTER.c.agency.type)
    incident_id = bindparam("incident_id", type_=ASSIGNMENTS.c.incident_id.type)
    responded_at = ASSIGNMENTS.c.responded_at
    elsewhere = ASSIGNMENTS.c.incident_id != incident_id
    recent = responded_at > bindparam("busy_since", type_=responded_at.type)
    history = (
        select(
            ASSIGNMENTS.c.member_id,
            func.bool_or(and_(elsewhere, recent)).label("accepted_within_24h"),
            func.bool_or(and_(elsewhere, recent, DECISIONS.c.activate)).label("open_elsewhere"),
            func.count()
            .filter(responded_at > bindparam("history_since", type_=responded_at.type))
            .label("accepted_90d"),
            func.max(responded_at).label("last_accepted_at"),
        )
        .join(DECISIONS, DECISIONS.c.incident_id == ASSIGNMENTS.c.incident_id)
        .where(
            ASSIGNMENTS.c.agency == agency,
            ASSIGNMENTS.c.state == AssignmentState.ACCEPTED.value,
            responded_at <= bindparam("now", type_=responded_at.type),
        )
        .group_by(ASSIGNMENTS.c.member_id)
        .cte("history")
        # computed once: with the row estimates of young tables the planner otherwise joins it
        # by nested loop, aggregating the agency's acceptances again for every roster entry
        .prefix_with("MATERIALIZED")
    )
    now = bindparam("now", type_=ROSTER.c.updated_at.type)
    roster = select(ROSTER).where(ROSTER.c.agency == agency).subquery("roster")
    mine = select(ASSIGNMENTS).where(ASSIGNMENTS.c.incident_id == incident_id).subquery("mine")
    approvals = (
        select(APPROVALS.c.member_id)
        .where(APPROVALS.c.incident_id == incident_id)
        .subquery("approvals")
    )
    candidate = (
        roster.c.member_id,
        roster.c.name,
        roster.c.phone,
        roster.c.status,
        roster.c.on_duty,
        # `OFF 8H` by SMS: off call until then, whatever the standing value says
        and_(
            roster.c.on_call,
            func.coalesce(roster.c.off_call_until <= now, True),
        ),
        func.coalesce(roster.c.training_valid_until > now, False),
        roster.c.phone_verified_at.is_not(None),
        roster.c.under_investigation,
        roster.c.languages,
        history.c.accepted_within_24h,
        history.c.accepted_90d,
        history.c.last_accepted_at,
        history.c.open_elsewhere,
    )
    assignment = tuple(mine.c[column.name] for column in ASSIGNMENT_COLUMNS)
    member_id = func.coalesce(roster.c.member_id, mine.c.member_id)
    query = select(*candidate, *assignment, approvals.c.member_id.is_not(None)).select_from(
        roster.join(mine, mine.c.member_id == roster.c.member_id, full=True)
        .outerjoin(history, history.c.member_id == roster.c.member_id)
        .outerjoin(approvals, approvals.c.member_id == member_id)
    )
    return query, len(candidate), len(assignment)


_PICTURE, _CANDIDATE_COLUMNS, _ASSIGNMENT_COLUMNS = _picture_query()


def _candidate(agency: str, values: Sequence[Any]) -> Candidate:
    (
        member_id,
        name,
        phone,
        status,
        on_duty,
        on_call,
        training_current,
        phone_verified,
        under_investigation,
        languages,
        accepted_within_24h,
        accepted_90d,
        last_accepted_at,
        open_elsewhere,
    ) = values
    return Candidate(
        Specialist(
            member_id=member_id,
            name=name,
            agency=agency,
            phone=phone,
            status=status,
            on_duty=on_duty,
            on_call=on_call,
            training_current=training_current,
            under_investigation=under_investigation,
            languages=tuple(languages or ()),
            phone_verified=phone_verified,
        ),
        ActivationHistory(
            accepted_other_incident_within_24h=bool(accepted_within_24h),
            accepted_in_last_90_days=int(accepted_90d or 0),
            last_accepted_at=last_accepted_at,
            has_open_acceptance_elsewhere=bool(open_elsewhere),
        ),
    )


async def load_staffing_picture(
    session: AsyncSession, *, agency: str, incident_id: uuid.UUID, now: datetime
) -> StaffingPicture:
    parameters = {
        "agency": agency,
        "incident_id": incident_id,
        "now": now,
        "busy_since": now - BUSY_WINDOW,
        "history_since": now - HISTORY_WINDOW,
    }
    first_assigned, after_assigned = _CANDIDATE_COLUMNS, _CANDIDATE_COLUMNS + _ASSIGNMENT_COLUMNS
    candidates: list[Candidate] = []
    assignments: list[AssignmentRow] = []
    approved: set[str] = set()
    for row in (await session.execute(_PICTURE, parameters)).all():
        on_roster = row[0] is not None
        if on_roster:
            candidates.append(_candidate(agency, row[:first_assigned]))
        if row[first_assigned] is not None:
            assignments.append(assignment_from(row[first_assigned:after_assigned]))
        if row[-1]:
            approved.add(row[0] if on_roster else assignments[-1].member_id)
    assignments.sort(key=lambda a: (a.created_at, a.slot))
    return StaffingPicture(candidates, assignments, frozenset(approved))
