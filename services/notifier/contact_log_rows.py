"""Data functions over the contact-log exchanges (`models.ContactLog`) and their SMS rows: Core
statements built once, in the caller's session, never committing. The caller holds the phone's
lock (`pages.lock_phone`) for everything that decides which exchange of a phone is open.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Integer, Row, String, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.contact_log_questions import Progress, Source, Step
from services.notifier.models import CONTACT_LOGS, PAGES
from services.notifier.page_states import PageKind, SendState
from shared.events import ContactKind, Referral
from shared.roster.models import RosterEntry

CONTACT_SEND_WINDOW = timedelta(hours=1)
"""An exchange's SMS is sent within the hour or not at all (the exchange then expires unanswered):
a question that arrives half a day late is worse than none."""


class ExchangeState(StrEnum):
    WAITING = "waiting"  # behind the phone's open exchange
    OPEN = "open"
    LOGGED = "logged"
    NOTHING = "nothing"  # 0 people supported
    SKIPPED = "skipped"
    EXPIRED = "expired"  # 72 hours unanswered


@dataclass(frozen=True, slots=True)
class OpenExchange:
    """A phone's open exchange as its handlers read it (locked)."""

    id: uuid.UUID
    agency: str
    source: Source
    assignment_id: uuid.UUID | None
    overtime_eligible: bool
    phone: str
    step: Step
    people: int | None
    kind: ContactKind | None
    referral: Referral | None
    link_page_id: uuid.UUID | None
    expires_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> OpenExchange:
        values = row._mapping
        return cls(**{name: values[name] for name in _OPEN_READ} | {"step": Step(values["step"])})

    @property
    def progress(self) -> Progress:
        return Progress(step=self.step, people=self.people, kind=self.kind, referral=self.referral)


_OPEN_READ = tuple(OpenExchange.__dataclass_fields__)
_OPEN_COLUMNS = tuple(CONTACT_LOGS.c[name] for name in _OPEN_READ)

_INSERT_WAITING = pg_insert(CONTACT_LOGS).on_conflict_do_nothing().returning(CONTACT_LOGS.c.id)
_OPEN_OF_PHONE = (
    select(*_OPEN_COLUMNS)
    .where(
        CONTACT_LOGS.c.phone == bindparam("phone"), CONTACT_LOGS.c.state == ExchangeState.OPEN.value
    )
    .with_for_update()
)
_OPEN_BY_TOKEN = (
    select(*_OPEN_COLUMNS)
    .where(
        CONTACT_LOGS.c.form_token_hash == bindparam("token_hash"),
        CONTACT_LOGS.c.state == ExchangeState.OPEN.value,
    )
    .with_for_update()
)
_PHONE_OF_TOKEN = select(CONTACT_LOGS.c.phone).where(
    CONTACT_LOGS.c.form_token_hash == bindparam("token_hash"),
    CONTACT_LOGS.c.state == ExchangeState.OPEN.value,
)
_FORM_OF_TOKEN = select(CONTACT_LOGS.c.source, CONTACT_LOGS.c.expires_at).where(
    CONTACT_LOGS.c.form_token_hash == bindparam("token_hash"),
    CONTACT_LOGS.c.state == ExchangeState.OPEN.value,
    CONTACT_LOGS.c.expires_at > bindparam("now", type_=DateTime(timezone=True)),
)
_OLDEST_WAITING = (
    select(CONTACT_LOGS.c.id, CONTACT_LOGS.c.agency, CONTACT_LOGS.c.source)
    .where(
        CONTACT_LOGS.c.phone == bindparam("phone"),
        CONTACT_LOGS.c.state == ExchangeState.WAITING.value,
    )
    .order_by(CONTACT_LOGS.c.created_at, CONTACT_LOGS.c.id)
    .limit(1)
    .with_for_update()
)
_OPENING = (
    update(CONTACT_LOGS)
    .where(CONTACT_LOGS.c.id == bindparam("exchange_id", type_=UUID(as_uuid=True)))
    .values(
        state=ExchangeState.OPEN.value,
        step=Step.PEOPLE.value,
        form_token_hash=bindparam("token_hash", type_=String),
        link_page_id=bindparam("link_page_id", type_=UUID(as_uuid=True)),
        expires_at=bindparam("expires_at", type_=DateTime(timezone=True)),
    )
)
_PROGRESSING = (
    update(CONTACT_LOGS)
    .where(CONTACT_LOGS.c.id == bindparam("exchange_id", type_=UUID(as_uuid=True)))
    .values(
        step=bindparam("new_step", type_=String),
        people=bindparam("new_people", type_=CONTACT_LOGS.c.people.type),
        kind=bindparam("new_kind", type_=String),
        referral=bindparam("new_referral", type_=String),
        expires_at=bindparam("expires_at", type_=DateTime(timezone=True)),
    )
)
_ENDING = (
    update(PAGES)
    .where(PAGES.c.id == bindparam("link_page_id", type_=UUID(as_uuid=True)))
    .values(body=bindparam("closed_body", type_=String))
    .add_cte(
        update(CONTACT_LOGS)
        .where(CONTACT_LOGS.c.id == bindparam("exchange_id", type_=UUID(as_uuid=True)))
        .values(
            state=bindparam("end_state", type_=String),
            ended_at=bindparam("ended_at", type_=DateTime(timezone=True)),
            phone=None,
            step=None,
            people=None,
            kind=None,
            referral=None,
            form_token_hash=None,
            link_page_id=None,
            expires_at=None,
        )
        .cte("ended")
    )
)
"""End the exchange, keeping its row (for idempotence) without answers, token or phone, and take
the link out of the stored text of the SMS that carried it: one statement."""

_OVERDUE_PHONES = (
    select(CONTACT_LOGS.c.phone)
    .where(
        CONTACT_LOGS.c.state == ExchangeState.OPEN.value,
        CONTACT_LOGS.c.expires_at <= bindparam("now", type_=DateTime(timezone=True)),
    )
    .order_by(CONTACT_LOGS.c.expires_at)
    .limit(bindparam("limit", type_=Integer))
)
_ROSTER_AGENCY = (
    select(RosterEntry.agency)
    .where(RosterEntry.phone == bindparam("phone"))
    .order_by(RosterEntry.agency)
    .limit(1)
)
_INSERT_MESSAGE = insert(PAGES)


async def insert_waiting(
    session: AsyncSession,
    *,
    agency: str,
    source: Source,
    phone: str,
    assignment_id: uuid.UUID | None,
    overtime_eligible: bool,
    now: datetime,
) -> bool:
    """A new exchange, waiting; False when the assignment has one already (a redelivered or
    repeated invitation)."""
    inserted = await session.execute(
        _INSERT_WAITING,
        {
            "id": uuid.uuid4(),
            "agency": agency,
            "source": source,
            "assignment_id": assignment_id,
            "overtime_eligible": overtime_eligible,
            "phone": phone,
            "state": ExchangeState.WAITING.value,
            "created_at": now,
        },
    )
    return inserted.first() is not None


async def open_exchange_of_phone(session: AsyncSession, phone: str) -> OpenExchange | None:
    """The phone's open exchange, locked, expired or not."""
    row = (await session.execute(_OPEN_OF_PHONE, {"phone": phone})).first()
    return OpenExchange.of(row) if row is not None else None


async def open_exchange_of_token(session: AsyncSession, token_hash: str) -> OpenExchange | None:
    """The open exchange whose form token hashes to `token_hash`, locked, expired or not."""
    row = (await session.execute(_OPEN_BY_TOKEN, {"token_hash": token_hash})).first()
    return OpenExchange.of(row) if row is not None else None


async def phone_of_token(session: AsyncSession, token_hash: str) -> str | None:
    """The phone of the open exchange whose form token hashes to `token_hash` (not locked: the
    caller locks the phone, then reads the exchange again)."""
    phone: str | None = await session.scalar(_PHONE_OF_TOKEN, {"token_hash": token_hash})
    return phone


async def form_of_token(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[Source, datetime] | None:
    """The source and expiry of the open, unexpired exchange of the token, if any."""
    row = (await session.execute(_FORM_OF_TOKEN, {"token_hash": token_hash, "now": now})).first()
    return (row.source, row.expires_at) if row is not None else None


@dataclass(frozen=True, slots=True)
class WaitingExchange:
    id: uuid.UUID
    agency: str
    source: Source


async def oldest_waiting(session: AsyncSession, phone: str) -> WaitingExchange | None:
    """The phone's exchange that has waited longest, locked."""
    row = (await session.execute(_OLDEST_WAITING, {"phone": phone})).first()
    return WaitingExchange(row.id, row.agency, row.source) if row is not None else None


async def mark_open(
    session: AsyncSession,
    exchange_id: uuid.UUID,
    *,
    token_hash: str,
    link_page_id: uuid.UUID,
    expires_at: datetime,
) -> None:
    """The exchange is open at its first question, with its form's token."""
    await session.execute(
        _OPENING,
        {
            "exchange_id": exchange_id,
            "token_hash": token_hash,
            "link_page_id": link_page_id,
            "expires_at": expires_at,
        },
    )


async def keep_progress(
    session: AsyncSession, exchange_id: uuid.UUID, progress: Progress, *, expires_at: datetime
) -> None:
    """The answers taken so far (parsed values only) and the next question."""
    await session.execute(
        _PROGRESSING,
        {
            "exchange_id": exchange_id,
            "new_step": progress.step.value,
            "new_people": progress.people,
            "new_kind": progress.kind,
            "new_referral": progress.referral,
            "expires_at": expires_at,
        },
    )


async def end(
    session: AsyncSession,
    exchange: OpenExchange,
    state: ExchangeState,
    *,
    closed_body: str,
    at: datetime,
) -> None:
    """`_ENDING`: `closed_body` is the text of the link's SMS without the link."""
    await session.execute(
        _ENDING,
        {
            "exchange_id": exchange.id,
            "end_state": state.value,
            "ended_at": at,
            "link_page_id": exchange.link_page_id,
            "closed_body": closed_body,
        },
    )


async def overdue_phones(session: AsyncSession, *, now: datetime, limit: int) -> list[str]:
    """Phones whose open exchange has expired, the longest expired first."""
    return list(await session.scalars(_OVERDUE_PHONES, {"now": now, "limit": limit}))


async def roster_agency(session: AsyncSession, phone: str) -> str | None:
    """The agency whose roster has `phone` (the first by slug should two agencies have it)."""
    agency: str | None = await session.scalar(_ROSTER_AGENCY, {"phone": phone})
    return agency


async def queue_message(
    session: AsyncSession,
    *,
    agency: str,
    phone: str,
    body: str,
    now: datetime,
    page_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """One SMS of an exchange in the notifier's outbox of pages, queued for the sender: tied to
    no assignment or incident, it answers nothing and reports nothing. Returns its id."""
    page_id = page_id or uuid.uuid4()
    await session.execute(
        _INSERT_MESSAGE,
        {
            "id": page_id,
            "kind": PageKind.CONTACT.value,
            "channel": "sms",
            "agency": agency,
            "phone": phone,
            "body": body,
            "remind_supervisor": False,
            "state": SendState.QUEUED.value,
            "attempts": 0,
            "send_after": now,
            "send_deadline": now + CONTACT_SEND_WINDOW,
            "twilio_status_rank": 0,
            "created_at": now,
        },
    )
    return page_id
