"""The sweep that ends contact-log exchanges left unanswered (`contact_logs`) and asks the next
waiting one of each phone, run by the SMS sender's loop (`sender.PageSender`).

Expiry is checked lazily whenever a phone's exchanges are touched; the sweep is for the phone
that never texts again, whose waiting exchange would otherwise never be asked. It is one
indexed statement when nothing is overdue, and then one short transaction per phone, each
taking only that phone's lock (as an inbound SMS does), so it never waits in a circle with one.
"""

from __future__ import annotations

from datetime import datetime

from services.notifier.contact_log_rows import overdue_phones
from services.notifier.contact_logs import open_next
from services.notifier.pages import lock_phone
from services.notifier.send_signals import pages_queued
from shared.db.commit_signals import raise_flag
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work

SWEEP_BATCH = 100


async def expire_overdue_exchanges(
    sessions: SessionFactory, *, now: datetime, public_url: str, limit: int = SWEEP_BATCH
) -> int:
    """End up to `limit` expired exchanges, each phone's next one asked; returns how many
    phones it looked at (`limit`: there may be more)."""
    async with unit_of_work(sessions) as session:
        phones = await overdue_phones(session, now=now, limit=limit)
    for phone in phones:
        async with unit_of_work(sessions) as session:
            await lock_phone(session, phone)
            if await open_next(session, phone=phone, now=now, public_url=public_url):
                await raise_flag(session, pages_queued("sms"))
            await session.commit()
    return len(phones)
