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

from sqlalchemy import Integer, String, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import UUID

from services.notifier.metrics import INBOUND
from services.notifier.models import PAGES
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


_STATUS_COLUMNS = (
    PAGES.c.id,
    PAGES.c.kind,
    PAGES.c.channel,
    PAGES.c.phone,
    PAGES.c.assignment_id,
    PAGES.c.incident_id,
    PAGES.c.twilio_sid,
    PAGES.c.twilio_status_rank,
    PAGES.c.closed_at,
)
_BY_ID = (
    select(*_STATUS_COLUMNS)
    .where(PAGES.c.id == bindparam("page_id", type_=UUID(as_uuid=True)))
    .with_for_update()
)
_BY_SID = select(*_STATUS_COLUMNS).where(PAGES.c.twilio_sid == bindparam("sid")).with_for_update()
_APPLY = (
    update(PAGES)
    .where(PAGES.c.id == bindparam("page_id", type_=UUID(as_uuid=True)))
    .values(
        twilio_status=bindparam("new_status", type_=String),
        twilio_status_rank=bindparam("new_rank", type_=Integer),
        twilio_sid=func.coalesce(PAGES.c.twilio_sid, bindparam("new_sid", type_=String)),
    )
)


async def handle_status(
    callback: StatusCallback, *, sessions: SessionFactory, topics: Topics, clock: Clock
) -> None:
    """Core statements: the page locked, then its status (and what it reports) written."""
    async with unit_of_work(sessions) as session:
        page = None
        if callback.page_id is not None or callback.sid:
            page = (
                await session.execute(
                    _BY_ID if callback.page_id is not None else _BY_SID,
                    {"page_id": callback.page_id, "sid": callback.sid},
                )
            ).first()
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
        status = callback.status.strip().lower()
        await session.execute(
            _APPLY,
            {"page_id": page.id, "new_status": status, "new_rank": rank, "new_sid": callback.sid},
        )
        outcome = status_outcome(page.channel, status, callback.error_code)
        if outcome == "opted_out":
            await record_opt_out(session, phone=page.phone, at=now)
        if outcome is not None and page.closed_at is None:
            detail = f"Twilio status {status}"
            if callback.error_code:
                detail += f" (error {callback.error_code})"
            await report_outcome(session, topics, page=page, outcome=outcome, at=now, detail=detail)
        await session.commit()
