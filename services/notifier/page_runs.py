"""A run of page requests in three statements, whatever its length: data functions for
`PageCommandHandler.handle_batch`, the batch counterparts of `pages.claim_event_locking_phone`,
`pages.assignment_paging` and `pages.insert_page` (per statement, SQLAlchemy's and asyncpg's
overhead costs more than the SQL: in a burst a statement per request is the notifier's largest
cost). They take the caller's session and never commit.

Locking several phones in one transaction risks deadlocks that locking one never did, so every
run takes its phones' locks in one order, that of the locks' ids, and only after all its claims:
two runs wait for each other in one direction only. Every other holder of a phone's lock (a
single page request, an inbound SMS) takes just that one and never waits for a page request's
transaction while holding it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import PAGES
from services.notifier.page_rows import PAGE_COLUMNS, AssignmentPaging
from services.notifier.pages import assignment_paging_columns, paging_from_row, phone_lock_key
from shared.db.array_inserts import array_insert, array_of, array_parameters
from shared.events import ContactLogInvited, PageRequested, PhoneConfirmationRequested
from shared.processed_events import claim_many_parameters, claim_many_statement

_CLAIMED = claim_many_statement().cte("claimed_run")
_LOCK_KEYS = (
    func.unnest(
        bindparam("run_event_ids", type_=array_of(String(100))),
        bindparam("run_lock_keys", type_=ARRAY(Text)),
    )
    .table_valued("event_id", "lock_key")
    .render_derived(name="run_keys")
)
_LOCK_ID = func.hashtextextended(_LOCK_KEYS.c.lock_key, 0).label("lock_id")
_CLAIMED_PHONES = (
    select(_LOCK_ID, func.array_agg(_CLAIMED.c.event_id).label("event_ids"))
    .select_from(_CLAIMED.join(_LOCK_KEYS, _LOCK_KEYS.c.event_id == _CLAIMED.c.event_id))
    .group_by(_LOCK_ID)
    .order_by(_LOCK_ID)
    .subquery("claimed_phones")
)
_CLAIM_RUN_LOCKING_PHONES = select(
    func.pg_advisory_xact_lock(_CLAIMED_PHONES.c.lock_id), _CLAIMED_PHONES.c.event_ids
).order_by(_CLAIMED_PHONES.c.lock_id)
"""Claim the events, then lock the phones of those claimed, one row per lock in the locks'
order. The grouping reads every claim before the first lock is taken, and PostgreSQL evaluates
a volatile output (the lock) after the ORDER BY's sort."""


async def claim_run_locking_phones(
    session: AsyncSession,
    *,
    consumer: str,
    requests: Sequence[PageRequested | ContactLogInvited | PhoneConfirmationRequested],
) -> set[str]:
    """Claim the requests' events for `consumer` and take `pages.lock_phone`'s lock of each
    claimed one's phone: one round trip (a contact-log invitation and a phone's confirmation
    request are claimed and locked with the page requests, so a run takes all its phones' locks
    in one order). Returns the ids
    claimed (not handled before), each once however often it appears. Like the single claim,
    it reads nothing: what the next statement reads is from after the locks."""
    result = await session.execute(
        _CLAIM_RUN_LOCKING_PHONES,
        {
            **claim_many_parameters(
                consumer=consumer, event_ids=[str(request.event_id) for request in requests]
            ),
            "run_event_ids": [str(request.event_id) for request in requests],
            "run_lock_keys": [phone_lock_key(request.phone) for request in requests],
        },
    )
    return {event_id for _, event_ids in result for event_id in event_ids}


_REQUESTED = (
    func.unnest(
        bindparam("run_assignment_ids", type_=ARRAY(PAGES.c.assignment_id.type)),
        bindparam("run_phones", type_=ARRAY(Text)),
    )
    .table_valued("assignment_id", "phone")
    .render_derived(name="requested")
)
_RUN_PAGING = select(
    _REQUESTED.c.assignment_id,
    _REQUESTED.c.phone,
    *assignment_paging_columns(_REQUESTED.c.assignment_id, _REQUESTED.c.phone),
)


async def run_paging(
    session: AsyncSession, requests: Sequence[PageRequested]
) -> dict[tuple[uuid.UUID, str], AssignmentPaging]:
    """`pages.assignment_paging` of every request's assignment and phone, in one statement."""
    pairs = sorted({(request.assignment_id, request.phone) for request in requests})
    rows = await session.execute(
        _RUN_PAGING,
        {
            "run_assignment_ids": [assignment_id for assignment_id, _ in pairs],
            "run_phones": [phone for _, phone in pairs],
        },
    )
    return {(row.assignment_id, row.phone): paging_from_row(row) for row in rows}


_INSERT_PAGES = array_insert(PAGES, PAGE_COLUMNS, prefix="page")


async def insert_pages(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """The rows of `page_rows.page_row`, in one INSERT (none when there are none). A value too
    long for its column fails it, as it fails the single INSERT (`array_inserts.array_of`)."""
    if rows:
        await session.execute(_INSERT_PAGES, array_parameters(rows, PAGE_COLUMNS, prefix="page"))
