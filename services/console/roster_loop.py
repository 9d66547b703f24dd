"""The roster's clockwork, run from the console's projector process every `interval_s` (an
hour): each agency's training currency recomputed from the records (a policy file's rule may
have changed; the migration's provisional values are replaced), then the coordinators told of
training lapsing within the notice period. Its state is in rows (`training_notices`), so a
restart loses nothing and several processes tell once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.kafka.topics import Topics
from shared.policy import AgencyRegistry
from shared.roster.training_notices import tell_of_lapses
from shared.roster.training_records import recompute

log = logging.getLogger(__name__)


async def roster_pass(
    sessions: SessionFactory, registry: AgencyRegistry, topics: Topics, clock: Clock
) -> dict[str, list[str]]:
    """One pass over every agency, one transaction each; the members told, by agency."""
    told: dict[str, list[str]] = {}
    for agency in registry:
        async with unit_of_work(sessions) as session:
            await recompute(session, agency)
            told[agency.slug] = await tell_of_lapses(session, topics, agency, clock.now())
            await session.commit()
    return told


class RosterLoop:
    def __init__(
        self,
        sessions: SessionFactory,
        registry: AgencyRegistry,
        topics: Topics,
        clock: Clock,
        *,
        interval_s: float = 3600.0,
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._topics = topics
        self._clock = clock
        self._interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                for agency, members in (
                    await roster_pass(self._sessions, self._registry, self._topics, self._clock)
                ).items():
                    if members:
                        log.info(
                            "coordinators told of lapsing training",
                            extra={"agency": agency, "members": len(members)},
                        )
            except Exception as error:  # the loop must outlive a database outage
                log.warning("the roster pass failed", extra={"error": repr(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
