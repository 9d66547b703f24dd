"""Forgetting incident facts: a set number of days after an incident closes (the agency's
`incident_facts_days`, default 90), its summary, address, persons and what was said of them
are purged everywhere they were kept, leaving only what the statistics need, de-identified.

An incident closes when the team is stood down, or, if nobody stood it down, at its last
change. The purge is the one place that writes every service's tables, on purpose: an
incident is forgotten in one transaction, never half. After it:
- intake's report is replaced by a marker (`purged_at`); the CAD's incident number goes too,
  so nothing links the row back to the CAD's record; a new revision of it is refused (409);
- the decision's and the pages' facts keep the kind and time of the incident, not its place;
  the members involved (never paged for it) are forgotten; the texts of its pages are emptied;
- the console's copy of the report and its timeline lines go; its counts stay;
- its events kept as dead letters, and those the outbox already published, are deleted.
The statistics read none of that (`source`), so a past quarter's figures are the same after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, func, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.projector import INCIDENTS as BOARD
from services.console.projector import PHONES as TEST_MESSAGES
from services.console.projector import TIMELINE
from services.dispatcher.tables import DECISIONS
from services.intake.models import Incident
from services.notifier.models import NotifierPage
from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.dead_letters import DeadLetter
from shared.outbox.models import PENDING, OutboxMessage
from shared.policy.model import AgencyConfig
from shared.policy.registry import AgencyRegistry

INCIDENTS = cast(Table, Incident.__table__)
PAGES = cast(Table, NotifierPage.__table__)
DEAD_LETTERS = cast(Table, DeadLetter.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)

log = logging.getLogger(__name__)

BATCH = 200
PLACE_KEYS = ("address", "lat", "lon")


def _without_place(column: object) -> object:
    """The facts JSON without its place (`-` removes a key from a jsonb object)."""
    expression = column
    for key in PLACE_KEYS:
        expression = expression.op("-")(literal(key))  # type: ignore[attr-defined]
    return expression


@dataclass(frozen=True, slots=True)
class Purged:
    agency: str
    incidents: int


async def due_for_purge(
    session: AsyncSession, agency: AgencyConfig, now: datetime, *, limit: int = BATCH
) -> list[uuid.UUID]:
    """Incidents of `agency` closed more than its retention ago and not purged yet, locked."""
    cutoff = now - timedelta(days=agency.reports.incident_facts_days)
    closed = func.coalesce(DECISIONS.c.closed_at, INCIDENTS.c.updated_at)
    rows = await session.execute(
        select(INCIDENTS.c.id)
        .select_from(INCIDENTS.outerjoin(DECISIONS, DECISIONS.c.incident_id == INCIDENTS.c.id))
        .where(
            INCIDENTS.c.agency == agency.slug,
            INCIDENTS.c.facts_purged_at.is_(None),
            closed < cutoff,
        )
        .order_by(INCIDENTS.c.updated_at)
        .limit(limit)
        .with_for_update(of=INCIDENTS, skip_locked=True)
    )
    return [row.id for row in rows]


async def purge_incidents(session: AsyncSession, ids: list[uuid.UUID], now: datetime) -> None:
    """Forget the facts of `ids` everywhere, in the caller's transaction."""
    if not ids:
        return
    marker = func.jsonb_build_object(literal("purged_at"), literal(now.isoformat()))
    await session.execute(
        update(INCIDENTS)
        .where(INCIDENTS.c.id.in_(ids))
        .values(report=marker, external_id=None, facts_purged_at=now),
    )
    await session.execute(
        update(DECISIONS)
        .where(DECISIONS.c.incident_id.in_(ids))
        .values(
            page_facts=_without_place(DECISIONS.c.page_facts),
            involved_member_ids=text("'{}'::varchar[]"),
        ),
    )
    await session.execute(
        update(PAGES).where(PAGES.c.incident_id.in_(ids)).values(body="", facts=None),
    )
    await session.execute(
        update(BOARD)
        .where(BOARD.c.incident_id.in_(ids))
        .values(report=None, facts=_without_place(BOARD.c.facts)),
    )
    await session.execute(delete(TIMELINE).where(TIMELINE.c.incident_id.in_(ids)))
    keys = [str(incident_id) for incident_id in ids]  # events are keyed by their incident
    await session.execute(delete(DEAD_LETTERS).where(DEAD_LETTERS.c.key.in_(keys)))
    await session.execute(delete(OUTBOX).where(OUTBOX.c.key.in_(keys), OUTBOX.c.status != PENDING))
    await session.execute(
        delete(TEST_MESSAGES).where(TEST_MESSAGES.c.incident_id.in_(ids)), {"ids": ids}
    )


async def purge_due(
    sessions: SessionFactory, registry: AgencyRegistry, now: datetime
) -> list[Purged]:
    """Purge every agency's incidents that are due, a batch per transaction."""
    done = []
    for agency in registry:
        count = 0
        while True:
            async with unit_of_work(sessions) as session:
                ids = await due_for_purge(session, agency, now)
                await purge_incidents(session, ids, now)
                await session.commit()
            count += len(ids)
            if len(ids) < BATCH:
                break
        done.append(Purged(agency.slug, count))
    return done


class RetentionLoop:
    """Runs the purge every `interval_s` (an hour) from the console's projector process; the
    purge's own state is in the rows (`facts_purged_at`), so a restart loses nothing."""

    def __init__(
        self,
        sessions: SessionFactory,
        registry: AgencyRegistry,
        clock: Clock,
        *,
        interval_s: float = 3600.0,
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._clock = clock
        self._interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                for purged in await purge_due(self._sessions, self._registry, self._clock.now()):
                    if purged.incidents:
                        log.info(
                            "incident facts purged",
                            extra={"agency": purged.agency, "incidents": purged.incidents},
                        )
            except Exception as error:  # the loop must outlive a database outage
                log.warning("purging incident facts failed", extra={"error": repr(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
