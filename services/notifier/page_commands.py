"""The dispatcher's commands to the notifier, each handled in one transaction.

- `PageRequested` puts one row in the notifier's outbox of pages (unique per assignment and
  channel: a redelivered or repeated command creates nothing), with its page code, its
  rendered text and its send deadline. The sender loop sends it.
- `PageWithdrawn` closes the assignment's pages so a late reply is not taken, and is
  remembered: a withdrawal that arrives before its page request closes that page at birth.
- `CoordinatorAlertRaised` puts one SMS row per coordinator or manager with a phone (unique per
  alert and phone).
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alert_text import alert_text
from services.notifier.call_script import call_say_text
from services.notifier.coordinators import coordinator_phones
from services.notifier.models import NotifierPage
from services.notifier.page_codes import choose_page_code
from services.notifier.page_states import PageKind, SendState
from services.notifier.page_text import PageIncident, PageLocation, page_text
from services.notifier.pages import (
    assignment_paging,
    claim_event_locking_phone,
    insert_page,
    withdraw_once,
)
from shared.clock import Clock
from shared.db.commit_signals import raise_flag
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    AnyEvent,
    CoordinatorAlertRaised,
    PageFacts,
    PageRequested,
    PageWithdrawn,
)
from shared.kafka.consumer_runner import PermanentEventError
from shared.processed_events import claim_event
from shared.settings import Settings

log = logging.getLogger(__name__)

CONSUMER = "notifier"
ALERT_SEND_WINDOW = timedelta(hours=1)
MIN_SEND_WINDOW = timedelta(seconds=30)


def pages_queued(channel: str) -> str:
    """The commit flag that wakes the sender of `channel` (`shared.db.commit_signals`): a
    queued SMS does not wake the call sender, nor the reverse."""
    return f"notifier_pages_queued:{channel}"


def incident_from_facts(facts: PageFacts) -> PageIncident:
    """What a page may say, from the facts the dispatcher sent (ValueError when invalid)."""
    location = None
    if facts.lat is not None and facts.lon is not None:
        location = PageLocation(facts.lat, facts.lon, facts.address)
    return PageIncident(
        agency=facts.agency,
        occurred_at=facts.occurred_at,
        time_zone=facts.time_zone,
        event=facts.event,
        location=location,
    )


def send_deadline(*, now: datetime, answer_by: datetime, ack_timeout_s: float) -> datetime:
    """The page is sent by then or not at all: at most the channel's answer timeout from now,
    never after the answer is due, and never less than a short window."""
    deadline = min(now + timedelta(seconds=ack_timeout_s), answer_by)
    return max(deadline, now + MIN_SEND_WINDOW)


@dataclass
class PageCommandHandler:
    """The consumer's handler for the page-commands topic."""

    sessions: SessionFactory
    clock: Clock
    settings: Settings
    rng: random.Random

    async def __call__(self, event: AnyEvent) -> None:
        match event:
            case PageRequested():
                await self.page_requested(event)
            case PageWithdrawn():
                await self.page_withdrawn(event)
            case CoordinatorAlertRaised():
                await self.coordinator_alert(event)
            case _:
                return

    async def page_requested(self, event: PageRequested) -> None:
        """Three statements: claim the event and lock the phone, read what the page depends
        on, insert it (Core throughout: this is the notifier's hottest path)."""
        try:
            incident = incident_from_facts(event.facts)
        except (ValueError, ZoneInfoNotFoundError) as error:
            raise PermanentEventError(f"the page's facts cannot be shown: {error}") from error
        async with unit_of_work(self.sessions) as session:
            if not await claim_event_locking_phone(
                session, consumer=CONSUMER, event_id=str(event.event_id), phone=event.phone
            ):
                return
            now = self.clock.now()
            paging = await assignment_paging(
                session, assignment_id=event.assignment_id, phone=event.phone
            )
            if event.channel in paging.paged_channels:
                await session.commit()
                return
            code = paging.code or choose_page_code(paging.open_codes, self.rng)
            if event.channel == "sms":
                body = page_text(incident, code=code, remind_supervisor=event.remind_supervisor)
                ack_timeout_s = self.settings.sms_ack_timeout_s
            else:
                body = call_say_text(incident, remind_supervisor=event.remind_supervisor)
                ack_timeout_s = self.settings.call_ack_timeout_s
            closed = paging.withdrawn or paging.answered
            await insert_page(
                session,
                {
                    "id": uuid.uuid4(),
                    "kind": PageKind.PAGE.value,
                    "channel": event.channel,
                    "agency": event.facts.agency,
                    "assignment_id": event.assignment_id,
                    "incident_id": event.incident_id,
                    "member_id": event.member_id,
                    "phone": event.phone,
                    "code": code,
                    "body": body,
                    "facts": event.facts.model_dump(mode="json"),
                    "remind_supervisor": event.remind_supervisor,
                    "state": (SendState.CANCELLED if closed else SendState.QUEUED).value,
                    "attempts": 0,
                    "send_after": now,
                    "send_deadline": send_deadline(
                        now=now, answer_by=event.answer_by, ack_timeout_s=ack_timeout_s
                    ),
                    "twilio_status_rank": 0,
                    "closed_at": now if closed else None,
                    "closed_reason": "withdrawn" if closed else None,
                    "created_at": now,
                },
            )
            if not closed:
                await raise_flag(session, pages_queued(event.channel))
            await session.commit()

    async def page_withdrawn(self, event: PageWithdrawn) -> None:
        async with unit_of_work(self.sessions) as session:
            await withdraw_once(
                session,
                consumer=CONSUMER,
                event_id=str(event.event_id),
                assignment_id=event.assignment_id,
                reason=event.reason,
                at=self.clock.now(),
            )
            await session.commit()

    async def coordinator_alert(self, event: CoordinatorAlertRaised) -> None:
        async with unit_of_work(self.sessions) as session:
            if not await claim_event(session, consumer=CONSUMER, event_id=str(event.event_id)):
                return
            now = self.clock.now()
            phones = await coordinator_phones(session, agency=event.agency)
            if not phones:
                log.warning(
                    "coordinator alert has nobody to text: no coordinator or manager token "
                    "of the agency has a phone",
                    extra={"agency": event.agency, "alert_id": str(event.alert_id)},
                )
            body = alert_text(event.agency, event.message)
            for phone in phones:
                await _add_alert(session, event=event, phone=phone, body=body, now=now)
            if phones:
                await raise_flag(session, pages_queued("sms"))
            await session.commit()


async def _add_alert(
    session: AsyncSession,
    *,
    event: CoordinatorAlertRaised,
    phone: str,
    body: str,
    now: datetime,
) -> None:
    await session.execute(
        insert(NotifierPage)
        .values(
            id=uuid.uuid4(),
            kind=PageKind.ALERT.value,
            channel="sms",
            agency=event.agency,
            alert_id=event.alert_id,
            incident_id=event.incident_id,
            phone=phone,
            body=body,
            remind_supervisor=False,
            state=SendState.QUEUED.value,
            attempts=0,
            send_after=now,
            send_deadline=now + ALERT_SEND_WINDOW,
            twilio_status_rank=0,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
