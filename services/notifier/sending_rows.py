"""The page rows the sender works on, a batch at a time, in Core statements (no ORM objects:
the sender is the notifier's hottest loop).

- A claim is one statement, committed by itself: it locks the sending number's slot, marks the
  due rows `sending` and moves the slot (`claim_statement`).
- Twilio's answers for a claimed batch are recorded by one statement, committed by itself: the
  rows, their outcomes for the outbox and any opt-out (`record_answers`).
- The rarer paths (claimed rows that must not be sent, sweeps, the demo mode) read the rows
  under lock in a transaction and write them back with one statement (`write_rows`); the demo
  mode also writes what it kept unsent to the outbox (`sender.kept_unsent_event`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CompoundSelect,
    DateTime,
    Integer,
    Interval,
    Row,
    Select,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Exists

from services.notifier.models import OPT_OUTS, PAGES, SENDER_SLOTS
from services.notifier.outcomes import count_reported
from services.notifier.page_states import SMS_STATUS_RANK, SendState
from shared.events import PageOutcomeReported
from shared.kafka.topics import Topics
from shared.outbox.enqueue import flag_outbox_written, outbox_row
from shared.outbox.rows import OUTBOX_INSERT, outbox_insert_from, outbox_parameters


@dataclass(frozen=True, slots=True)
class SendingRow:
    """One page as the sender reads it (under lock) and writes it back."""

    id: uuid.UUID
    kind: str
    channel: str
    agency: str
    assignment_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    member_id: str | None
    phone: str
    body: str
    state: str
    attempts: int
    send_after: datetime
    send_deadline: datetime
    sending_until: datetime | None
    last_error: str | None
    twilio_sid: str | None
    twilio_status_rank: int
    sent_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, row: Row[*tuple[Any, ...]]) -> SendingRow:
        values = row._mapping
        return cls(**{name: values[name] for name in _READ})


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TERMINAL_SMS_RANK = SMS_STATUS_RANK["delivered"]
_READ = tuple(SendingRow.__dataclass_fields__)
_COLUMNS = tuple(PAGES.c[name] for name in _READ)
_WRITTEN = (
    "state",
    "attempts",
    "send_after",
    "sending_until",
    "last_error",
    "twilio_sid",
    "sent_at",
)
"""The columns the sender changes; the others are the page's own."""

_CHANGES = (
    func.unnest(
        bindparam("new_id", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("new_state", type_=ARRAY(String)),
        bindparam("new_attempts", type_=ARRAY(Integer)),
        bindparam("new_send_after", type_=ARRAY(DateTime(timezone=True))),
        bindparam("new_sending_until", type_=ARRAY(DateTime(timezone=True))),
        bindparam("new_last_error", type_=ARRAY(Text)),
        bindparam("new_twilio_sid", type_=ARRAY(String)),
        bindparam("new_sent_at", type_=ARRAY(DateTime(timezone=True))),
    )
    .table_valued("id", *_WRITTEN)
    .render_derived(name="change")
)
_WRITE_ROWS = (
    update(PAGES)
    .where(PAGES.c.id == _CHANGES.c.id)
    .values({name: _CHANGES.c[name] for name in _WRITTEN})
)
"""Every written column of every row, from one array per column: one statement (and one
prepared statement) whatever the batch's size."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim did: when the sending number is next free, the rows it marked `sending`,
    and the due rows it left queued because they must not be sent (`unsendable_ids`)."""

    slot_free_at: datetime
    sending: list[SendingRow]
    unsendable_ids: list[uuid.UUID]
    next_due_at: datetime | None
    """When the earliest page of the channel queued for later (after a 429) is due."""

    @property
    def taken(self) -> int:
        return len(self.sending) + len(self.unsendable_ids)


def _opted_out() -> Exists:
    return exists().where(OPT_OUTS.c.phone == PAGES.c.phone)


def claim_statement(*, sender: str, channel: str, limit: int) -> Select[Any]:
    """One statement that claims: it locks the sender's slot; only when the slot is free at
    `now`, it locks up to `limit` due rows of `channel` (skipping rows another sender holds),
    marks the sendable ones `sending` (attempts + 1, held until `sending_until`) and moves the
    slot by `slot_step` per row marked.

    Run alone (autocommit), it is committed when it returns: the "mark sending and commit
    before calling Twilio" rule in one round trip. The slot's gate is evaluated before any row
    is locked, and a row read from the statement's older snapshot is re-checked against its
    newest version when locked, so a row claimed meanwhile is never taken twice. Sendable here
    is `send_rules.unsendable`'s rule (open, before its deadline, not an SMS to a number that
    opted out); the due rows that are not are returned unchanged for it to settle. It also
    says when the channel's next page queued for later is due, for the loop's next wake.
    """
    now = bindparam("now", type_=DateTime(timezone=True))
    slot = (
        select(SENDER_SLOTS.c.next_free_at)
        .where(SENDER_SLOTS.c.sender == sender)
        .with_for_update()
        .cte("slot")
    )
    sendable = and_(
        PAGES.c.closed_at.is_(None),
        PAGES.c.send_deadline > now,
        or_(PAGES.c.channel != "sms", ~_opted_out()),
    )
    due = (
        select(PAGES.c.id, sendable.label("sendable"))
        .where(
            PAGES.c.state == SendState.QUEUED.value,
            PAGES.c.channel == channel,
            PAGES.c.send_after <= now,
            select(slot.c.next_free_at).scalar_subquery() <= now,
        )
        .order_by(PAGES.c.send_after, PAGES.c.created_at)
        .limit(limit)
        .with_for_update(of=PAGES, skip_locked=True)
        .cte("due")
    )
    marked = (
        update(PAGES)
        .where(PAGES.c.id == due.c.id, due.c.sendable)
        .values(
            state=SendState.SENDING.value,
            attempts=PAGES.c.attempts + 1,
            sending_until=bindparam("sending_until", type_=DateTime(timezone=True)),
        )
        .returning(*_COLUMNS)
        .cte("marked")
    )
    moved = (
        update(SENDER_SLOTS)
        .where(SENDER_SLOTS.c.sender == sender, exists(select(marked.c.id)))
        .values(
            next_free_at=now
            + select(func.count()).select_from(marked).scalar_subquery()
            * bindparam("slot_step", type_=Interval)
        )
        .returning(SENDER_SLOTS.c.next_free_at)
        .cte("moved")
    )
    next_due = (
        select(func.min(PAGES.c.send_after))
        .where(
            PAGES.c.state == SendState.QUEUED.value,
            PAGES.c.channel == channel,
            PAGES.c.send_after > now,
        )
        .scalar_subquery()
    )
    return select(
        func.coalesce(select(moved.c.next_free_at).scalar_subquery(), slot.c.next_free_at).label(
            "slot_free_at"
        ),
        next_due.label("next_due_at"),
        due.c.id.label("due_id"),
        due.c.sendable,
        *marked.c,
    ).select_from(slot.outerjoin(due, true()).outerjoin(marked, marked.c.id == due.c.id))


async def claim(
    session: AsyncSession,
    statement: Select[Any],
    *,
    sender: str,
    now: datetime,
    sending_until: datetime,
    slot_step: timedelta,
) -> Claimed:
    """Run `claim_statement` in an autocommit session, creating the sender's slot row the
    first time."""
    params = {"now": now, "sending_until": sending_until, "slot_step": slot_step}
    rows = (await session.execute(statement, params)).all()
    if not rows:
        await session.execute(
            pg_insert(SENDER_SLOTS)
            .values(sender=sender, next_free_at=_EPOCH)
            .on_conflict_do_nothing()
        )
        rows = (await session.execute(statement, params)).all()
    return Claimed(
        slot_free_at=rows[0].slot_free_at,
        next_due_at=rows[0].next_due_at,
        sending=[SendingRow.of(row) for row in rows if row.due_id is not None and row.sendable],
        unsendable_ids=[row.due_id for row in rows if row.due_id is not None and not row.sendable],
    )


_LOCKED_QUEUED = (
    select(*_COLUMNS, _opted_out().label("opted_out"))
    .where(
        PAGES.c.id == func.any(bindparam("queued_ids", type_=ARRAY(UUID(as_uuid=True)))),
        PAGES.c.state == SendState.QUEUED.value,
    )
    .order_by(PAGES.c.id)
    .with_for_update()
)


async def locked_queued_rows(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> list[tuple[SendingRow, bool]]:
    """Those of the rows still queued, locked, each with whether its phone opted out."""
    result = await session.execute(_LOCKED_QUEUED, {"queued_ids": sorted(set(ids))})
    return [(SendingRow.of(row), bool(row.opted_out)) for row in result]


def overdue_rows_statement(*, channel: str, limit: int) -> CompoundSelect[Any]:
    """The rows of `channel` a sweep settles, locked (held ones skipped): `sending` past its
    `sending_until` (the sender died mid-request) and `queued` past its send deadline."""
    now = bindparam("now", type_=DateTime(timezone=True))
    lost = (
        select(*_COLUMNS)
        .where(
            PAGES.c.state == SendState.SENDING.value,
            PAGES.c.channel == channel,
            PAGES.c.sending_until < now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("lost")
    )
    late = (
        select(*_COLUMNS)
        .where(
            PAGES.c.state == SendState.QUEUED.value,
            PAGES.c.channel == channel,
            PAGES.c.send_deadline <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("late")
    )
    return union_all(select(lost), select(late))


def overdue_probe(*, channel: str) -> Select[Any]:
    """Whether `overdue_rows_statement` may find anything, locking nothing: the idle sweep's
    one round trip."""
    now = bindparam("now", type_=DateTime(timezone=True))
    return select(
        or_(
            exists().where(
                PAGES.c.state == SendState.SENDING.value,
                PAGES.c.channel == channel,
                PAGES.c.sending_until < now,
            ),
            exists().where(
                PAGES.c.state == SendState.QUEUED.value,
                PAGES.c.channel == channel,
                PAGES.c.send_deadline <= now,
            ),
        )
    )


def queued_rows_statement(*, channel: str, limit: int) -> Select[Any]:
    """The queued rows of `channel`, oldest first, locked (held ones skipped), each with its
    page code (`queued_rows_with_codes`)."""
    return (
        select(*_COLUMNS, PAGES.c.code)
        .where(PAGES.c.state == SendState.QUEUED.value, PAGES.c.channel == channel)
        .order_by(PAGES.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def queued_rows_with_codes(
    session: AsyncSession, statement: Select[Any]
) -> list[tuple[SendingRow, str | None]]:
    """The rows of `queued_rows_statement`, each with its page code (None for an alert or a
    notice): what the demo mode tells the console's test phones."""
    return [(SendingRow.of(row), row.code) for row in await session.execute(statement)]


async def read_rows(
    session: AsyncSession, statement: Select[Any] | CompoundSelect[Any], **params: Any
) -> list[SendingRow]:
    return [SendingRow.of(row) for row in await session.execute(statement, params)]


_WRITE_WITH_REPORTS = _WRITE_ROWS.add_cte(OUTBOX_INSERT.cte("reported"))


async def write_rows(
    session: AsyncSession,
    rows: Sequence[SendingRow],
    *,
    topics: Topics,
    reports: Sequence[PageOutcomeReported] = (),
) -> None:
    """Write the rows' sending side and enqueue `reports`: one statement, in the caller's
    transaction (which holds the rows' locks)."""
    if not rows:
        return
    params: dict[str, Any] = {
        f"new_{name}": [getattr(row, name) for row in rows] for name in ("id", *_WRITTEN)
    }
    if not reports:
        await session.execute(_WRITE_ROWS, params)
        return
    await session.execute(_WRITE_WITH_REPORTS, params | outbox_parameters(topics, reports))
    count_reported(reports)
    await flag_outbox_written(session)


@dataclass(frozen=True, slots=True)
class Answer:
    """What Twilio's answer makes of a page that is still `sending`."""

    row: SendingRow
    """The row to write (its `twilio_sid` is kept when the row already has one)."""
    report: PageOutcomeReported | None = None
    """To report, unless it is `sent` for an SMS whose delivery Twilio has already called
    back (the status callback reported it)."""
    opts_out: bool = False
    """Record the phone as opted out."""


_ANSWER = select(
    func.unnest(
        bindparam("answer_id", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("answer_state", type_=ARRAY(String)),
        bindparam("answer_attempts", type_=ARRAY(Integer)),
        bindparam("answer_send_after", type_=ARRAY(DateTime(timezone=True))),
        bindparam("answer_last_error", type_=ARRAY(Text)),
        bindparam("answer_twilio_sid", type_=ARRAY(String)),
        bindparam("answer_sent_at", type_=ARRAY(DateTime(timezone=True))),
        bindparam("answer_outcome", type_=ARRAY(Text)),
        bindparam("answer_topic", type_=ARRAY(Text)),
        bindparam("answer_key", type_=ARRAY(Text)),
        bindparam("answer_event_type", type_=ARRAY(Text)),
        bindparam("answer_payload", type_=ARRAY(Text)),
        bindparam("answer_opts_out", type_=ARRAY(Boolean)),
    )
    .table_valued(
        "id",
        "state",
        "attempts",
        "send_after",
        "last_error",
        "twilio_sid",
        "sent_at",
        "outcome",
        "topic",
        "key",
        "event_type",
        "payload",
        "opts_out",
    )
    .render_derived(name="answered")
).cte("answer")
_RECORDED = (
    update(PAGES)
    .where(PAGES.c.id == _ANSWER.c.id, PAGES.c.state == SendState.SENDING.value)
    .values(
        state=_ANSWER.c.state,
        attempts=_ANSWER.c.attempts,
        send_after=_ANSWER.c.send_after,
        sending_until=None,
        last_error=_ANSWER.c.last_error,
        twilio_sid=func.coalesce(PAGES.c.twilio_sid, _ANSWER.c.twilio_sid),
        sent_at=_ANSWER.c.sent_at,
    )
    .returning(PAGES.c.id, PAGES.c.channel, PAGES.c.phone, PAGES.c.twilio_status_rank)
    .cte("recorded")
)
_REPORTABLE = (
    select(_ANSWER)
    .join(_RECORDED, _RECORDED.c.id == _ANSWER.c.id)
    .where(
        _ANSWER.c.outcome.is_not(None),
        or_(
            _ANSWER.c.outcome != "sent",
            _RECORDED.c.channel == "call",
            _RECORDED.c.twilio_status_rank < TERMINAL_SMS_RANK,
        ),
    )
    .cte("reportable")
)
_RECORD_ANSWERS = select(
    _RECORDED.c.id,
    exists(select(_REPORTABLE.c.id).where(_REPORTABLE.c.id == _RECORDED.c.id)).label("reported"),
).add_cte(
    outbox_insert_from(
        select(
            _REPORTABLE.c.topic,
            _REPORTABLE.c.key,
            _REPORTABLE.c.event_type,
            sql_cast(_REPORTABLE.c.payload, JSONB),
        )
    ).cte("reported"),
    pg_insert(OPT_OUTS)
    .from_select(
        ["phone", "opted_out_at"],
        select(_RECORDED.c.phone, bindparam("opted_out_at", type_=DateTime(timezone=True)))
        .join(_ANSWER, _ANSWER.c.id == _RECORDED.c.id)
        .where(_ANSWER.c.opts_out),
    )
    .on_conflict_do_nothing()
    .cte("opted_out"),
)
"""Record Twilio's answers for a batch in one statement (one transaction on its own): each
row still `sending` takes its answer; their outcomes go to the outbox and the numbers that
unsubscribed to the opt-outs; a row no longer `sending` (swept as uncertain meanwhile) is left
alone. Returns the ids recorded, each with whether its outcome was reported."""


@dataclass(frozen=True, slots=True)
class Recorded:
    ids: frozenset[uuid.UUID]
    """The pages that were still `sending`, now written."""
    reported: list[PageOutcomeReported]
    """The outcomes enqueued."""


async def record_answers(
    session: AsyncSession,
    answers: Sequence[Answer],
    *,
    topics: Topics,
    at: datetime,
) -> Recorded:
    """Run `_RECORD_ANSWERS` for the batch in an autocommit session; a page swept meanwhile
    keeps only Twilio's sid (a second statement, only then)."""
    outbox = [outbox_row(topics, a.report) if a.report else None for a in answers]
    params: dict[str, Any] = {
        f"answer_{name}": [getattr(a.row, name) for a in answers]
        for name in ("id", "state", "attempts", "send_after", "last_error", "twilio_sid")
    }
    params |= {
        "answer_sent_at": [a.row.sent_at for a in answers],
        "answer_outcome": [a.report.outcome if a.report else None for a in answers],
        "answer_topic": [row["topic"] if row else None for row in outbox],
        "answer_key": [row["key"] if row else None for row in outbox],
        "answer_event_type": [row["event_type"] if row else None for row in outbox],
        "answer_payload": [json.dumps(row["payload"]) if row else None for row in outbox],
        "answer_opts_out": [a.opts_out for a in answers],
        "opted_out_at": at,
    }
    result = (await session.execute(_RECORD_ANSWERS, params)).all()
    recorded = frozenset(row.id for row in result)
    reported_ids = {row.id for row in result if row.reported}
    swept_sids = {
        a.row.id: a.row.twilio_sid
        for a in answers
        if a.row.id not in recorded and a.row.twilio_sid is not None
    }
    if swept_sids:
        await session.execute(
            _KEEP_SID, {"sid_id": list(swept_sids), "sid": list(swept_sids.values())}
        )
    return Recorded(
        ids=recorded,
        reported=[a.report for a in answers if a.report and a.row.id in reported_ids],
    )


_SIDS = (
    func.unnest(
        bindparam("sid_id", type_=ARRAY(UUID(as_uuid=True))),
        bindparam("sid", type_=ARRAY(String)),
    )
    .table_valued("id", "twilio_sid")
    .render_derived(name="kept")
)
_KEEP_SID = (
    update(PAGES)
    .where(PAGES.c.id == _SIDS.c.id, PAGES.c.twilio_sid.is_(None))
    .values(twilio_sid=_SIDS.c.twilio_sid)
)
"""Twilio's sid for pages it accepted after they were swept as uncertain, for the status
callbacks."""
