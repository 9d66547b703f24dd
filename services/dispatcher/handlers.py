"""The dispatcher's consumer: one event in, one transaction, exactly-once effects.

Each event is claimed in `processed_events` inside the same transaction as its effects, so a
redelivered or replayed event changes nothing; the offset is committed (by the ConsumerRunner)
only after that transaction. An event that can never be handled is dead-lettered, and an
incident report among them also alerts the coordinators: an activation is never dropped
silently. A burst's consecutive events of one partition share one transaction
(`Dispatcher.handle_batch`), each still claimed on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import AlertReason, raise_alert
from services.dispatcher.context import CONSUMER, DispatcherContext
from services.dispatcher.coordinator_commands import (
    UnknownIncident,
    on_manual_page,
    on_stand_down,
)
from services.dispatcher.incident_handlers import (
    UnusableReport,
    decide_report,
    on_approval_recorded,
    on_incident_reported,
)
from services.dispatcher.outcome_handler import (
    UnknownAssignment,
    changes_nothing,
    on_page_outcome,
    record_outcome_once,
    record_outcomes_once,
)
from services.dispatcher.transactions import in_transaction
from shared.events import (
    AnyEvent,
    ApprovalRecorded,
    IncidentReported,
    ManualPageRequested,
    PageOutcomeReported,
    StandDownRequested,
)
from shared.kafka.consumer_runner import PermanentEventError
from shared.processed_events import claim_event

log = logging.getLogger(__name__)

Work = Callable[[AsyncSession], Awaitable[None]]


class Dispatcher:
    def __init__(self, ctx: DispatcherContext) -> None:
        self._ctx = ctx

    async def handle(self, event: AnyEvent) -> None:
        """Handle one event from `incidents` (reports, approvals, the coordinators' commands)
        or `page-outcomes`; others are not ours."""
        try:
            work = self._work(event)
        except UnusableReport as error:
            if isinstance(event, IncidentReported):
                await self._alert_unusable(event, str(error))
            raise PermanentEventError(str(error)) from error
        if work is None:
            return
        try:
            await in_transaction(self._ctx.sessions, work)
        except (UnknownAssignment, UnknownIncident) as error:
            raise PermanentEventError(str(error)) from error

    async def handle_batch(self, events: Sequence[AnyEvent]) -> None:
        """Handle consecutive events of one partition (a burst) as `handle` would, one by one,
        but in one transaction: its BEGIN and COMMIT are paid once, and the outcomes that change
        nothing are claimed and recorded together in one statement, after the other events.
        Those change only their own record, so the one statement may come last; the others
        run in order, each report's staffing seeing what the previous ones wrote.

        Anything unusual (a report that cannot be decided on, an outcome for an unknown
        assignment, a bug) raises, before anything is written or with the transaction rolled
        back: the ConsumerRunner then handles the events one at a time, which alerts or
        dead-letters the bad one alone.

        Locks: as one at a time, each event locks its incident's decision row before touching
        anything else of the incident, but a batch holds all its incidents' locks until it
        commits. An incident's events share a partition and the timer loop locks one incident
        per transaction, so normally no two transactions can wait on each other in a cycle;
        two consumers on the same partition's events (a rebalance) start at the same committed
        offset and lock in the same order, so one merely waits. Should PostgreSQL still find a
        deadlock (40P01), `in_transaction` runs the batch again (`lost_a_race`); `is_transient`
        does not count 40P01 (it reaches us as a plain DBAPIError), so once those attempts are
        spent the runner falls back to one event at a time, one incident's locks at a time.
        """
        recorded_only: list[PageOutcomeReported] = []
        steps: list[Work] = []
        for event in events:
            if isinstance(event, PageOutcomeReported) and changes_nothing(event):
                recorded_only.append(event)
            elif (work := self._work(event)) is not None:
                steps.append(work)
        if not (steps or recorded_only):
            return
        ctx = self._ctx

        async def batch(session: AsyncSession) -> None:
            for step in steps:
                await step(session)
            if recorded_only:
                await record_outcomes_once(session, ctx, recorded_only)

        await in_transaction(ctx.sessions, batch)

    def _work(self, event: AnyEvent) -> Work | None:
        """The event's work in the caller's transaction, claiming the event; None when the
        event is not ours. A report is decided first (pure; `UnusableReport`).

        The commonest events, a report and an outcome that changes nothing (every page's
        "sent"), claim themselves in their first statement; the others are claimed by `_once`.
        The outcome that changes nothing is one statement run without BEGIN and COMMIT, so
        only `handle` uses it: a batch records those together.
        """
        ctx = self._ctx
        match event:
            case IncidentReported():
                decided = decide_report(ctx, event)

                async def reported(session: AsyncSession) -> None:
                    await on_incident_reported(session, ctx, decided)

                return reported

            case ApprovalRecorded():

                async def approved(session: AsyncSession) -> None:
                    await on_approval_recorded(session, ctx, event)

                return self._once(event, approved)

            case StandDownRequested():

                async def stood_down(session: AsyncSession) -> None:
                    await on_stand_down(session, ctx, event)

                return self._once(event, stood_down)

            case ManualPageRequested():

                async def paged_by_hand(session: AsyncSession) -> None:
                    await on_manual_page(session, ctx, event)

                return self._once(event, paged_by_hand)

            case PageOutcomeReported() if changes_nothing(event):

                async def recorded(session: AsyncSession) -> None:
                    await record_outcome_once(session, ctx, event)

                return recorded

            case PageOutcomeReported():

                async def acted_on(session: AsyncSession) -> None:
                    await on_page_outcome(session, ctx, event)

                return self._once(event, acted_on)

            case _:
                return None

    @staticmethod
    def _once(event: AnyEvent, work: Work) -> Work:
        async def claimed(session: AsyncSession) -> None:
            if await claim_event(session, consumer=CONSUMER, event_id=str(event.event_id)):
                await work(session)

        return claimed

    async def _alert_unusable(self, event: IncidentReported, error: str) -> None:
        ctx = self._ctx

        async def alert(session: AsyncSession) -> None:
            await raise_alert(
                session,
                ctx.topics,
                agency=event.agency[:64],
                incident_id=event.incident_id,
                reason=AlertReason.UNUSABLE_REPORT,
                message=(
                    f"Revision {event.revision} of this incident's report could not be decided "
                    f"on ({error}); it was set aside for a person to look at."
                ),
                dedupe_key=f"{AlertReason.UNUSABLE_REPORT}:{event.event_id}",
                at=ctx.clock.now(),
            )

        await in_transaction(ctx.sessions, alert)
        log.error(
            "incident report could not be decided on",
            extra={"alert": True, "incident_id": str(event.incident_id), "error": error},
        )
