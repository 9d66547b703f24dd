"""The dispatcher's commands to the notifier, each handled in one transaction.

- `PageRequested` puts one row in the notifier's outbox of pages (unique per assignment and
  channel: a redelivered or repeated command creates nothing), with its page code, its
  rendered text and its send deadline. The sender loop sends it.
- `PageWithdrawn` closes the assignment's pages so a late reply is not taken, and is
  remembered: a withdrawal that arrives before its page request closes that page at birth.
- `CoordinatorAlertRaised` puts one SMS row per coordinator or manager with a phone (unique per
  alert and phone).
- `NoticeRequested` puts one SMS row of kind `notice` for the assignment (unique per assignment,
  channel and kind): it carries no code and asks for no answer, so no reply is ever taken for
  it, no withdrawal closes it, and its sending reports nothing to the dispatcher.
- `ContactLogInvited` starts the assignment's contact-log exchange (`contact_logs`; unique per
  assignment), its first question queued at once unless the phone has an exchange open.
- `PhoneConfirmationRequested` texts the roster phone a new confirmation code, one SMS of kind
  `confirm` (`phone_confirmations`; the event is claimed, so a redelivery texts nothing more).

A run of commands fetched together from one partition (a burst) is handled in one transaction
instead (`handle_batch`), with the same effects as one at a time.
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
from services.notifier.contact_logs import invite
from services.notifier.coordinators import coordinator_phones
from services.notifier.models import NotifierPage
from services.notifier.page_rows import (
    incident_from_facts,
    new_page,
    page_row,
    queued_channels,
    run_page_rows,
)
from services.notifier.page_runs import claim_run_locking_phones, insert_pages, run_paging
from services.notifier.page_states import PageKind, SendState
from services.notifier.page_text import PageIncident, stood_down_text
from services.notifier.pages import (
    assignment_paging,
    claim_event_locking_phone,
    insert_page,
    withdraw_once,
)
from services.notifier.phone_confirmations import request_code
from services.notifier.send_signals import pages_queued
from shared.clock import Clock
from shared.db.commit_signals import raise_flag
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    AnyEvent,
    ContactLogInvited,
    CoordinatorAlertRaised,
    NoticeRequested,
    PageRequested,
    PageWithdrawn,
    PhoneConfirmationRequested,
)
from shared.kafka.consumer_runner import PermanentEventError
from shared.processed_events import claim_event
from shared.settings import Settings

log = logging.getLogger(__name__)

CONSUMER = "notifier"
ALERT_SEND_WINDOW = timedelta(hours=1)
NOTICE_SEND_WINDOW = timedelta(hours=1)


def showable_incident(event: PageRequested | NoticeRequested) -> PageIncident:
    """What the page may say; an event whose facts cannot be shown is dead-lettered."""
    try:
        return incident_from_facts(event.facts)
    except (ValueError, ZoneInfoNotFoundError) as error:
        raise PermanentEventError(f"the page's facts cannot be shown: {error}") from error


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
            case NoticeRequested():
                await self.notice_requested(event)
            case ContactLogInvited():
                await self.contact_log_invited(event)
            case PhoneConfirmationRequested():
                await self.phone_confirmation_requested(event)
            case _:
                return

    async def handle_batch(self, events: list[AnyEvent]) -> None:
        """A run of commands in one transaction, with the effects of handling each in turn:
        the page requests', contact-log invitations' and phone confirmation requests' claims
        and phone locks first, in one statement; each stretch of consecutive page requests read
        in one statement and inserted in one (`page_runs`); a withdrawal, an alert, a notice,
        an invitation or a confirmation request between them by its usual statements, in
        order, so a page requested after its withdrawal is closed at birth. Anything unusual
        (facts that cannot be shown, a phone with every code open, a constraint) raises, which
        rolls the whole run back for the consumer runner to handle it one event at a time."""
        requests = [event for event in events if isinstance(event, PageRequested)]
        incidents = {request.event_id: showable_incident(request) for request in requests}
        locking = [
            e
            for e in events
            if isinstance(e, PageRequested | ContactLogInvited | PhoneConfirmationRequested)
        ]
        async with unit_of_work(self.sessions) as session:
            unhandled: set[str] = set()
            if locking:
                unhandled = await claim_run_locking_phones(
                    session, consumer=CONSUMER, requests=locking
                )
            queued: set[str] = set()
            stretch: list[tuple[PageRequested, PageIncident]] = []
            for event in events:
                if isinstance(event, PageRequested):
                    if str(event.event_id) in unhandled:  # once, if it came twice
                        unhandled.remove(str(event.event_id))
                        stretch.append((event, incidents[event.event_id]))
                    continue
                queued |= await self._add_pages(session, stretch)
                stretch = []
                match event:
                    case PageWithdrawn():
                        await self._withdraw(session, event)
                    case CoordinatorAlertRaised():
                        if await self._add_alerts(session, event):
                            queued.add("sms")
                    case NoticeRequested():
                        if await self._add_notice(session, event):
                            queued.add("sms")
                    case ContactLogInvited():
                        if str(event.event_id) in unhandled:  # claimed and locked above
                            unhandled.remove(str(event.event_id))
                            if await self._invite(session, event):
                                queued.add("sms")
                    case PhoneConfirmationRequested():
                        if str(event.event_id) in unhandled:  # claimed and locked above
                            unhandled.remove(str(event.event_id))
                            if await request_code(session, event, now=self.clock.now()):
                                queued.add("sms")
            queued |= await self._add_pages(session, stretch)
            for channel in sorted(queued):
                await raise_flag(session, pages_queued(channel))
            await session.commit()

    async def _add_pages(
        self, session: AsyncSession, requests: list[tuple[PageRequested, PageIncident]]
    ) -> set[str]:
        """The pages of claimed requests whose phones are locked, in two statements; returns
        the channels that have a new page to send."""
        if not requests:
            return set()
        pagings = await run_paging(session, [event for event, _ in requests])
        rows = run_page_rows(
            requests, pagings, rng=self.rng, now=self.clock.now(), settings=self.settings
        )
        await insert_pages(session, rows)
        return queued_channels(rows)

    async def page_requested(self, event: PageRequested) -> None:
        """Three statements: claim the event and lock the phone, read what the page depends
        on, insert it (Core throughout: this is the notifier's hottest path)."""
        incident = showable_incident(event)
        async with unit_of_work(self.sessions) as session:
            if not await claim_event_locking_phone(
                session, consumer=CONSUMER, event_id=str(event.event_id), phone=event.phone
            ):
                return
            now = self.clock.now()
            paging = await assignment_paging(
                session, assignment_id=event.assignment_id, phone=event.phone
            )
            page = new_page(event.channel, paging, self.rng)
            if page is None:
                await session.commit()
                return
            await insert_page(
                session, page_row(event, incident, page, now=now, settings=self.settings)
            )
            if not page.closed:
                await raise_flag(session, pages_queued(event.channel))
            await session.commit()

    async def page_withdrawn(self, event: PageWithdrawn) -> None:
        async with unit_of_work(self.sessions) as session:
            await self._withdraw(session, event)
            await session.commit()

    async def _withdraw(self, session: AsyncSession, event: PageWithdrawn) -> None:
        await withdraw_once(
            session,
            consumer=CONSUMER,
            event_id=str(event.event_id),
            assignment_id=event.assignment_id,
            reason=event.reason,
            at=self.clock.now(),
        )

    async def coordinator_alert(self, event: CoordinatorAlertRaised) -> None:
        async with unit_of_work(self.sessions) as session:
            if await self._add_alerts(session, event):
                await raise_flag(session, pages_queued("sms"))
            await session.commit()

    async def _add_alerts(self, session: AsyncSession, event: CoordinatorAlertRaised) -> bool:
        """Unless the alert was handled already, an SMS row per coordinator or manager with a
        phone; whether there was any."""
        if not await claim_event(session, consumer=CONSUMER, event_id=str(event.event_id)):
            return False
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
        return bool(phones)

    async def notice_requested(self, event: NoticeRequested) -> None:
        async with unit_of_work(self.sessions) as session:
            if await self._add_notice(session, event):
                await raise_flag(session, pages_queued("sms"))
            await session.commit()

    async def _add_notice(self, session: AsyncSession, event: NoticeRequested) -> bool:
        """Unless the notice was handled already, or its assignment has one: its SMS row,
        queued. Whether it added one."""
        body = notice_text(event, showable_incident(event))
        if not await claim_event(session, consumer=CONSUMER, event_id=str(event.event_id)):
            return False
        now = self.clock.now()
        added = await session.execute(
            insert(NotifierPage)
            .values(
                id=uuid.uuid4(),
                kind=PageKind.NOTICE.value,
                channel="sms",
                agency=event.facts.agency,
                assignment_id=event.assignment_id,
                incident_id=event.incident_id,
                member_id=event.member_id,
                phone=event.phone,
                code=None,
                body=body,
                facts=event.facts.model_dump(mode="json"),
                remind_supervisor=False,
                state=SendState.QUEUED.value,
                attempts=0,
                send_after=now,
                send_deadline=now + NOTICE_SEND_WINDOW,
                twilio_status_rank=0,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(NotifierPage.id)
        )
        return added.first() is not None

    async def contact_log_invited(self, event: ContactLogInvited) -> None:
        """Claim the event and lock the phone, then start the exchange (`contact_logs.invite`:
        unique per assignment, so another invitation for it adds nothing either)."""
        async with unit_of_work(self.sessions) as session:
            if not await claim_event_locking_phone(
                session, consumer=CONSUMER, event_id=str(event.event_id), phone=event.phone
            ):
                return
            if await self._invite(session, event):
                await raise_flag(session, pages_queued("sms"))
            await session.commit()

    async def phone_confirmation_requested(self, event: PhoneConfirmationRequested) -> None:
        """Claim the event and lock the phone, then text it a new code
        (`phone_confirmations.request_code`)."""
        async with unit_of_work(self.sessions) as session:
            if not await claim_event_locking_phone(
                session, consumer=CONSUMER, event_id=str(event.event_id), phone=event.phone
            ):
                return
            if await request_code(session, event, now=self.clock.now()):
                await raise_flag(session, pages_queued("sms"))
            await session.commit()

    async def _invite(self, session: AsyncSession, event: ContactLogInvited) -> bool:
        return await invite(
            session, event, now=self.clock.now(), public_url=str(self.settings.public_url)
        )


def notice_text(event: NoticeRequested, incident: PageIncident) -> str:
    """The notice's SMS, by its kind."""
    match event.notice:
        case "stood_down":
            return stood_down_text(incident)


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
