"""A quarter's statistics for an agency: the facts read, then made safe (`quarterly`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.reports.periods import BadQuarter, Quarter
from services.reports.quarterly import QuarterStatistics, quarter_statistics
from services.reports.source import activation_facts, contact_facts
from shared.policy.model import AgencyConfig, Role

READERS = frozenset({Role.CHIEF, Role.MANAGER, Role.COORDINATOR})
"""Who may read the anonymous statistics (CONTRACT §7); the Lodge President holds a chief's
credential (FOP #4 §D.2.h)."""


async def statistics_of(
    session: AsyncSession, agency: AgencyConfig, quarter: Quarter
) -> QuarterStatistics:
    activations = await activation_facts(session, agency, quarter)
    contacts = await contact_facts(session, agency, quarter)
    return quarter_statistics(agency, quarter, activations, contacts)


def parse_quarter(text: str | None) -> Quarter:
    """The `quarter` a caller asked for; BadQuarter says what is wrong."""
    if text is None or not text.strip():
        raise BadQuarter("quarter: required, as YYYYQn (e.g. 2026Q4)")
    return Quarter.parse(text)
