"""The agency's roster as selection candidates, each with the activation history the §6.2
order needs, computed by SQL from the assignments table as of `now`.

An incident stays "open" for the 24 hours after a specialist accepted it while its decision
still activates: the contract has no stand-down, so time is what ends a specialist's
engagement. Whoever holds such an acceptance for another incident goes after everyone else
(`busy_elsewhere_rank` 2); an acceptance in the last 24 hours of an incident that no longer
activates still places them after the free ones (rank 1, CONTRACT §6.2).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.selection import ActivationHistory, Candidate, Specialist
from shared.activation_records import ActivationDecision, Assignment
from shared.roster.entry import SpecialistStatus
from shared.roster.models import RosterEntry

BUSY_WINDOW = timedelta(hours=24)
HISTORY_WINDOW = timedelta(days=90)


def _status(value: str) -> SpecialistStatus:
    """A status this code does not know is read as not active: never paged by accident."""
    try:
        return SpecialistStatus(value)
    except ValueError:
        return SpecialistStatus.INACTIVE


async def load_candidates(
    session: AsyncSession, *, agency: str, incident_id: uuid.UUID, now: datetime
) -> list[Candidate]:
    """Every roster entry of the agency, with its history of accepted pages elsewhere."""
    accepted = Assignment.state == AssignmentState.ACCEPTED.value
    elsewhere = Assignment.incident_id != incident_id
    recent = Assignment.responded_at > now - BUSY_WINDOW
    history = (
        select(
            Assignment.member_id.label("member_id"),
            func.bool_or(and_(accepted, elsewhere, recent)).label("accepted_within_24h"),
            func.bool_or(and_(accepted, elsewhere, recent, ActivationDecision.activate)).label(
                "open_elsewhere"
            ),
            func.count()
            .filter(and_(accepted, Assignment.responded_at > now - HISTORY_WINDOW))
            .label("accepted_90d"),
            func.max(Assignment.responded_at).filter(accepted).label("last_accepted_at"),
        )
        .join(ActivationDecision, ActivationDecision.incident_id == Assignment.incident_id)
        .where(Assignment.agency == agency, Assignment.responded_at <= now)
        .group_by(Assignment.member_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(RosterEntry, history)
            .outerjoin(history, history.c.member_id == RosterEntry.member_id)
            .where(RosterEntry.agency == agency)
            .order_by(RosterEntry.member_id)
        )
    ).all()
    candidates = []
    for row in rows:
        entry: RosterEntry = row[0]
        candidates.append(
            Candidate(
                Specialist(
                    member_id=entry.member_id,
                    name=entry.name,
                    agency=entry.agency,
                    phone=entry.phone,
                    status=_status(entry.status),
                    on_duty=entry.on_duty,
                    on_call=entry.on_call,
                    training_current=entry.training_current,
                    under_investigation=entry.under_investigation,
                    languages=tuple(entry.languages or ()),
                ),
                ActivationHistory(
                    accepted_other_incident_within_24h=bool(row.accepted_within_24h),
                    accepted_in_last_90_days=int(row.accepted_90d or 0),
                    last_accepted_at=row.last_accepted_at,
                    has_open_acceptance_elsewhere=bool(row.open_elsewhere),
                ),
            )
        )
    return candidates
