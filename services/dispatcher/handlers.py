"""The dispatcher's consumer: one event in, one transaction, exactly-once effects.

Each event is claimed in `processed_events` inside the same transaction as its effects, so a
redelivered or replayed event changes nothing; the offset is committed (by the ConsumerRunner)
only after that transaction. An event that can never be handled is dead-lettered, and an
incident report among them also alerts the coordinators: an activation is never dropped
silently.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.alerts import AlertReason, raise_alert
from services.dispatcher.context import CONSUMER, DispatcherContext
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
)
from services.dispatcher.transactions import in_transaction
from shared.events import (
    AnyEvent,
    ApprovalRecorded,
    IncidentReported,
    PageOutcomeReported,
)
from shared.kafka.consumer_runner import PermanentEventError
from shared.processed_events import claim_event

log = logging.getLogger(__name__)

Work = Callable[[AsyncSession], Awaitable[None]]


class Dispatcher:
    def __init__(self, ctx: DispatcherContext) -> None:
        self._ctx = ctx

    async def handle(self, event: AnyEvent) -> None:
        """Handle one event from `incidents` or `page-outcomes`; others are not ours.

        The commonest events, a report and an outcome that changes nothing (every page's
        "sent"), claim themselves in their first statement; the others are claimed by `_once`.
        """
        ctx = self._ctx
        once: Work
        match event:
            case IncidentReported():
                try:
                    decided = decide_report(ctx, event)
                except UnusableReport as error:
                    await self._alert_unusable(event, str(error))
                    raise PermanentEventError(str(error)) from error

                async def once(session: AsyncSession) -> None:
                    await on_incident_reported(session, ctx, decided)

            case ApprovalRecorded():

                async def work(session: AsyncSession) -> None:
                    await on_approval_recorded(session, ctx, event)

                once = self._once(event, work)

            case PageOutcomeReported() if changes_nothing(event):

                async def once(session: AsyncSession) -> None:
                    await record_outcome_once(session, ctx, event)

            case PageOutcomeReported():

                async def work(session: AsyncSession) -> None:
                    await on_page_outcome(session, ctx, event)

                once = self._once(event, work)

            case _:
                return
        try:
            await in_transaction(ctx.sessions, once)
        except UnknownAssignment as error:
            raise PermanentEventError(str(error)) from error

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
