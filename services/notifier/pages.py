"""Data functions over the notifier's tables: they take the caller's session and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, delete, exists, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import AutoReply, NotifierPage, OptOut, PageWithdrawal
from services.notifier.page_states import ANSWERABLE_STATES, Answer, PageKind, SendState
from shared.roster.models import RosterEntry


async def lock_phone(session: AsyncSession, phone: str) -> None:
    """Serialise, until the transaction ends, the work on one phone number's pages: choosing a
    page code, answering a reply, the help-reply rate rule."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"pst-notifier-phone:{phone}"},
    )


async def open_codes(session: AsyncSession, phone: str) -> list[str]:
    """The codes of the pages still open for `phone`."""
    rows = await session.scalars(
        select(NotifierPage.code).where(
            NotifierPage.phone == phone,
            NotifierPage.closed_at.is_(None),
            NotifierPage.code.is_not(None),
        )
    )
    return [code for code in rows if code is not None]


async def assignment_pages(session: AsyncSession, assignment_id: uuid.UUID) -> list[NotifierPage]:
    """Every page (SMS and call) of one assignment."""
    rows = await session.scalars(
        select(NotifierPage).where(NotifierPage.assignment_id == assignment_id)
    )
    return list(rows)


async def is_withdrawn(session: AsyncSession, assignment_id: uuid.UUID) -> bool:
    return await session.get(PageWithdrawal, assignment_id) is not None


async def record_withdrawal(
    session: AsyncSession, *, assignment_id: uuid.UUID, reason: str, at: datetime
) -> None:
    await session.execute(
        insert(PageWithdrawal)
        .values(assignment_id=assignment_id, reason=reason[:200], withdrawn_at=at)
        .on_conflict_do_nothing()
    )


async def close_assignment(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    at: datetime,
    reason: str,
    answer: Answer | None = None,
) -> list[NotifierPage]:
    """Close the assignment's open pages (a queued one is cancelled, never sent); returns the
    pages this call closed, none when they were closed already: the effect happens once."""
    result = await session.execute(
        update(NotifierPage)
        .where(NotifierPage.assignment_id == assignment_id, NotifierPage.closed_at.is_(None))
        .values(
            closed_at=at,
            closed_reason=reason,
            answer=answer.value if answer is not None else None,
            state=case(
                (NotifierPage.state == SendState.QUEUED.value, SendState.CANCELLED.value),
                else_=NotifierPage.state,
            ),
        )
        .returning(NotifierPage)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def answerable_pages(session: AsyncSession, phone: str) -> list[NotifierPage]:
    """The specialist's pages a reply from `phone` may answer: open, and possibly in hand."""
    rows = await session.scalars(
        select(NotifierPage).where(
            NotifierPage.phone == phone,
            NotifierPage.kind == PageKind.PAGE.value,
            NotifierPage.closed_at.is_(None),
            NotifierPage.state.in_([state.value for state in ANSWERABLE_STATES]),
        )
    )
    return list(rows)


async def open_sms_pages(session: AsyncSession, phone: str) -> list[NotifierPage]:
    rows = await session.scalars(
        select(NotifierPage).where(
            NotifierPage.phone == phone,
            NotifierPage.kind == PageKind.PAGE.value,
            NotifierPage.channel == "sms",
            NotifierPage.closed_at.is_(None),
            NotifierPage.state.not_in(
                [SendState.OPTED_OUT.value, SendState.SEND_FAILED.value, SendState.EXPIRED.value]
            ),
        )
    )
    return list(rows)


async def on_roster(session: AsyncSession, phone: str) -> bool:
    """Whether `phone` belongs to a specialist on any agency's roster."""
    found = await session.scalar(select(exists().where(RosterEntry.phone == phone)))
    return bool(found)


async def is_opted_out(session: AsyncSession, phone: str) -> bool:
    return await session.get(OptOut, phone) is not None


async def record_opt_out(session: AsyncSession, *, phone: str, at: datetime) -> bool:
    """Record that `phone` opted out; False when it already had."""
    result = await session.execute(
        insert(OptOut)
        .values(phone=phone, opted_out_at=at)
        .on_conflict_do_nothing()
        .returning(OptOut.phone)
    )
    return result.scalar_one_or_none() is not None


async def remove_opt_out(session: AsyncSession, phone: str) -> None:
    await session.execute(delete(OptOut).where(OptOut.phone == phone))


async def auto_replies_since(
    session: AsyncSession, *, phone: str, since: datetime
) -> list[datetime]:
    rows = await session.scalars(
        select(AutoReply.sent_at).where(AutoReply.phone == phone, AutoReply.sent_at > since)
    )
    return list(rows)


async def record_auto_reply(session: AsyncSession, *, phone: str, kind: str, at: datetime) -> None:
    session.add(AutoReply(phone=phone, kind=kind, sent_at=at))
