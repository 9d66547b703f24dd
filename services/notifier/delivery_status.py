"""Twilio's status callbacks for our messages and calls, applied only forward.

The callback URL names the page (`?page=<id>`), so a callback that arrives before the sender has
recorded the sid still finds its page. A status ranked at or below the page's current one (late,
or repeated) changes nothing; an applied one reports at most one outcome, and only while the page
is open: `delivered`; `delivery_failed` for a failed or undelivered SMS (the dispatcher calls);
`opted_out` when Twilio says the recipient unsubscribed; `call_unanswered` for a call that ended
without a keypress. A status that is not one of the page's channel is refused (422), and so is a
callback naming a page that does not exist (404): neither changes anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from services.notifier.metrics import INBOUND
from services.notifier.models import NotifierPage
from services.notifier.outcomes import report_outcome
from services.notifier.page_states import status_outcome, status_rank
from services.notifier.pages import record_opt_out
from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput, NotFound
from shared.kafka.topics import Topics


@dataclass(frozen=True, slots=True)
class StatusCallback:
    page_id: uuid.UUID | None
    sid: str | None
    status: str
    error_code: str | None


async def handle_status(
    callback: StatusCallback, *, sessions: SessionFactory, topics: Topics, clock: Clock
) -> None:
    async with unit_of_work(sessions) as session:
        if callback.page_id is not None:
            page = await session.get(NotifierPage, callback.page_id, with_for_update=True)
        elif callback.sid:
            page = await session.scalar(
                select(NotifierPage)
                .where(NotifierPage.twilio_sid == callback.sid)
                .with_for_update()
            )
        else:
            page = None
        if page is None or (callback.sid and page.twilio_sid not in (None, callback.sid)):
            INBOUND.labels("status_unknown").inc()
            if page is None and callback.page_id is not None:
                raise NotFound("page: no such page")
            return
        rank = status_rank(page.channel, callback.status)
        if rank is None:
            INBOUND.labels("status_unknown").inc()
            raise InvalidInput(
                f"{callback.status[:20]!r} is not a status of a Twilio "
                f"{'message' if page.channel == 'sms' else 'call'}"
            )
        if rank <= page.twilio_status_rank:
            INBOUND.labels("status_ignored").inc()
            return
        INBOUND.labels("status_applied").inc()
        now = clock.now()
        page.twilio_status = callback.status.strip().lower()
        page.twilio_status_rank = rank
        if page.twilio_sid is None and callback.sid:
            page.twilio_sid = callback.sid
        outcome = status_outcome(page.channel, page.twilio_status, callback.error_code)
        if outcome == "opted_out":
            await record_opt_out(session, phone=page.phone, at=now)
        if outcome is not None and page.closed_at is None:
            detail = f"Twilio status {page.twilio_status}"
            if callback.error_code:
                detail += f" (error {callback.error_code})"
            await report_outcome(session, topics, page=page, outcome=outcome, at=now, detail=detail)
        await session.commit()
