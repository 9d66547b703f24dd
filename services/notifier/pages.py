"""Data functions over the notifier's tables: they take the caller's session and never commit.

The page-command handler's functions are Core statements that each do as much as one round trip
can: its whole transaction is three statements.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Row,
    String,
    Text,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import (
    PAGES,
    WITHDRAWALS,
    AutoReply,
    NotifierPage,
    OptOut,
)
from services.notifier.page_rows import AssignmentPaging
from services.notifier.page_states import ANSWERABLE_STATES, Answer, PageKind, SendState
from services.notifier.sms_reply import HELP_REPLY_WINDOW, help_reply_allowed
from shared.processed_events import claim_parameters, claim_statement
from shared.roster.models import RosterEntry


def phone_lock_key(phone: str) -> str:
    """The advisory lock of `lock_phone`, by name (hashed with `hashtextextended(…, 0)`)."""
    return f"pst-notifier-phone:{phone}"


async def lock_phone(session: AsyncSession, phone: str) -> None:
    """Serialise, until the transaction ends, the work on one phone number's pages: choosing a
    page code, answering a reply, the help-reply rate rule."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": phone_lock_key(phone)},
    )


_CLAIMED = claim_statement().cte("claimed")
"""The processed-events claim (`shared.processed_events.claim_event`) as a CTE: one row when
this transaction is the first to handle the event, none when it was handled already."""

_CLAIM_LOCKING_PHONE = select(
    func.pg_advisory_xact_lock(func.hashtextextended(bindparam("lock_key", type_=Text), 0))
).select_from(_CLAIMED)


async def claim_event_locking_phone(
    session: AsyncSession, *, consumer: str, event_id: str, phone: str
) -> bool:
    """Claim the event for `consumer` (False when it was handled already) and, when claimed,
    take `lock_phone`'s lock: one round trip. The lock is its own statement, before anything
    is read: a statement that waited for it would still read from its older snapshot."""
    locked = await session.execute(
        _CLAIM_LOCKING_PHONE,
        {
            **claim_parameters(consumer=consumer, event_id=event_id),
            "lock_key": phone_lock_key(phone),
        },
    )
    return locked.first() is not None


def assignment_paging_columns(
    assignment_id: ColumnElement[uuid.UUID], phone: ColumnElement[str]
) -> list[ColumnElement[Any]]:
    """The columns of `AssignmentPaging` for the assignment and phone given as expressions:
    bind parameters for one request (`assignment_paging`), an array's rows for a run of them
    (`page_runs`, where these subqueries correlate to the run's rows, the code's even within
    the open codes' subquery)."""
    sibling_code = (
        select(func.min(PAGES.c.code))
        .where(PAGES.c.assignment_id == assignment_id)
        .correlate_except(PAGES)
        .scalar_subquery()
    )
    open_page = PAGES.alias("open_page")
    return [
        select(func.array_agg(PAGES.c.channel))
        .where(PAGES.c.assignment_id == assignment_id, PAGES.c.kind == PageKind.PAGE.value)
        .scalar_subquery()
        .label("paged_channels"),
        sibling_code.label("code"),
        exists()
        .where(PAGES.c.assignment_id == assignment_id, PAGES.c.answer.is_not(None))
        .label("answered"),
        exists().where(WITHDRAWALS.c.assignment_id == assignment_id).label("withdrawn"),
        select(func.array_agg(open_page.c.code))
        .where(
            open_page.c.phone == phone,
            open_page.c.closed_at.is_(None),
            open_page.c.code.is_not(None),
            sibling_code.is_(None),
        )
        .scalar_subquery()
        .label("open_codes"),
    ]


def paging_from_row(row: Row[Any]) -> AssignmentPaging:
    """An `AssignmentPaging` from a row of `assignment_paging_columns`."""
    return AssignmentPaging(
        paged_channels=frozenset(row.paged_channels or ()),
        code=row.code,
        answered=bool(row.answered),
        withdrawn=bool(row.withdrawn),
        open_codes=frozenset(row.open_codes or ()),
    )


_ASSIGNMENT_PAGING = select(
    *assignment_paging_columns(
        bindparam("assignment_id", type_=UUID(as_uuid=True)), bindparam("phone", type_=String)
    )
)


async def assignment_paging(
    session: AsyncSession, *, assignment_id: uuid.UUID, phone: str
) -> AssignmentPaging:
    """The assignment's pages, its withdrawal and the phone's open codes, together."""
    row = (
        await session.execute(_ASSIGNMENT_PAGING, {"assignment_id": assignment_id, "phone": phone})
    ).one()
    return paging_from_row(row)


_INSERT_PAGE = insert(PAGES)


async def insert_page(session: AsyncSession, values: dict[str, Any]) -> None:
    """One page row, by a Core INSERT (no ORM object)."""
    await session.execute(_INSERT_PAGE, values)


_CLOSING = (
    update(PAGES)
    .where(
        PAGES.c.assignment_id == bindparam("closing_assignment", type_=UUID(as_uuid=True)),
        PAGES.c.kind == PageKind.PAGE.value,
        PAGES.c.closed_at.is_(None),
    )
    .values(
        closed_at=bindparam("closing_at", type_=DateTime(timezone=True)),
        closed_reason=bindparam("closing_reason", type_=String),
        answer=bindparam("closing_answer", type_=String),
        state=case(
            (PAGES.c.state == SendState.QUEUED.value, SendState.CANCELLED.value),
            else_=PAGES.c.state,
        ),
    )
)
"""Close an assignment's open pages (a queued one is cancelled, never sent); its notice, which
asks for no answer, is not a page that closes: it is sent even after a withdrawal."""

_WITHDRAWING = _CLOSING.where(exists(select(_CLAIMED.c.event_id))).add_cte(
    pg_insert(WITHDRAWALS)
    .from_select(
        ["assignment_id", "reason", "withdrawn_at"],
        select(
            bindparam("closing_assignment", type_=UUID(as_uuid=True)),
            bindparam("withdrawal_reason", type_=String),
            bindparam("closing_at", type_=DateTime(timezone=True)),
        ).select_from(_CLAIMED),
    )
    .on_conflict_do_nothing()
    .cte("remembered")
)
"""Unless the event was handled: remember the withdrawal and close the assignment's pages."""


async def withdraw_once(
    session: AsyncSession,
    *,
    consumer: str,
    event_id: str,
    assignment_id: uuid.UUID,
    reason: str,
    at: datetime,
) -> None:
    """Unless `consumer` handled `event_id` already: remember the withdrawal (so a page
    requested later is closed at birth) and close the assignment's open pages. One statement."""
    await session.execute(
        _WITHDRAWING,
        {
            **claim_parameters(consumer=consumer, event_id=event_id),
            "closing_assignment": assignment_id,
            "closing_at": at,
            "closing_reason": "withdrawn",
            "closing_answer": None,
            "withdrawal_reason": reason[:200],
        },
    )


async def close_assignment(
    session: AsyncSession,
    *,
    assignment_id: uuid.UUID,
    at: datetime,
    reason: str,
    answer: Answer | None = None,
) -> list[uuid.UUID]:
    """Close the assignment's open pages (a queued one is cancelled, never sent); returns the
    ids of the pages this call closed, none when they were closed already: the effect happens
    once."""
    result = await session.execute(
        _CLOSING.returning(PAGES.c.id),
        {
            "closing_assignment": assignment_id,
            "closing_at": at,
            "closing_reason": reason,
            "closing_answer": answer.value if answer is not None else None,
        },
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
        pg_insert(OptOut)
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


async def take_auto_reply(session: AsyncSession, *, phone: str, kind: str, at: datetime) -> bool:
    """Whether one more automatic reply to unexpected input may go to `phone` now (fewer than
    `sms_reply.HELP_REPLIES_PER_WINDOW` this window, whatever their kind); when so it is
    recorded, so two robots answering each other stop soon. The caller holds `lock_phone`."""
    previous = await auto_replies_since(session, phone=phone, since=at - HELP_REPLY_WINDOW)
    if not help_reply_allowed(previous, now=at):
        return False
    await record_auto_reply(session, phone=phone, kind=kind, at=at)
    return True
