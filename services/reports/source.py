"""Reading a quarter's facts: incidents and assignments from the console's read model, contacts
from the reports' own table. Read-only; nothing here is kept beyond the answer."""

from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.projector import ASSIGNMENTS, INCIDENTS
from services.reports.facts import ActivationFact, ContactFact
from services.reports.models import CONTACTS
from services.reports.periods import Quarter, month_of
from shared.policy.model import AgencyConfig


async def activation_facts(
    session: AsyncSession, agency: AgencyConfig, quarter: Quarter
) -> list[ActivationFact]:
    """One fact per decided incident first reported in the quarter (the agency's local time)."""
    zone = agency.zone
    quarter_incidents = (
        select(
            INCIDENTS.c.incident_id,
            INCIDENTS.c.first_reported_at,
            INCIDENTS.c.activate,
            INCIDENTS.c.criteria,
            INCIDENTS.c.specialists,
        )
        .where(
            INCIDENTS.c.agency == agency.slug,
            INCIDENTS.c.decided_revision > 0,
            INCIDENTS.c.first_reported_at >= quarter.start(zone),
            INCIDENTS.c.first_reported_at < quarter.end(zone),
        )
        .cte("quarter_incidents")
    )
    per = (
        select(
            func.array_remove(func.array_agg(ASSIGNMENTS.c.accepted_at), None).label("accepted"),
            func.count().filter(ASSIGNMENTS.c.paged).label("pages"),
            func.count().filter(ASSIGNMENTS.c.called).label("calls"),
            func.count().filter(ASSIGNMENTS.c.state == "declined").label("declines"),
            func.count().filter(ASSIGNMENTS.c.state == "timed_out").label("timeouts"),
        )
        .where(ASSIGNMENTS.c.incident_id == quarter_incidents.c.incident_id)
        .lateral("per_incident")
    )
    rows = await session.execute(
        select(quarter_incidents, per).select_from(quarter_incidents.join(per, true()))
    )
    facts = []
    for row in rows:
        accepted = sorted(row.accepted or [])
        reported = row.first_reported_at
        needed = row.specialists
        facts.append(
            ActivationFact(
                month=month_of(reported, zone),
                activate=row.activate,
                criteria=tuple(row.criteria),
                specialists=needed,
                accepted=len(accepted),
                to_first_acceptance_s=(
                    (accepted[0] - reported).total_seconds() if accepted else None
                ),
                to_last_acceptance_s=(
                    (accepted[needed - 1] - reported).total_seconds()
                    if needed and len(accepted) >= needed
                    else None
                ),
                pages=row.pages or 0,
                calls=row.calls or 0,
                declines=row.declines or 0,
                timeouts=row.timeouts or 0,
            )
        )
    return facts


async def contact_facts(
    session: AsyncSession, agency: AgencyConfig, quarter: Quarter
) -> list[ContactFact]:
    rows = await session.execute(
        select(
            CONTACTS.c.month,
            CONTACTS.c.source,
            CONTACTS.c.people,
            CONTACTS.c.kind,
            CONTACTS.c.referral,
            CONTACTS.c.hours,
        ).where(CONTACTS.c.agency == agency.slug, CONTACTS.c.month.in_(quarter.months))
    )
    return [
        ContactFact(
            month=row.month,
            source=row.source,
            people=row.people,
            kind=row.kind,
            referral=row.referral,
            hours=float(row.hours),
        )
        for row in rows
    ]
