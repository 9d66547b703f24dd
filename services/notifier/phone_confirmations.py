"""Confirming a roster phone by a code texted to it (issue 14): a new or changed number is not
paged until its code comes back from it.

- `PhoneConfirmationRequested` (`shared.roster.phones.request_confirmation`, on the page-commands
  topic; the handler claims the event, so a redelivery does nothing): unless the member's entry
  no longer has that phone, or has it confirmed already, a random 6-digit code (`secrets`) is
  texted to the phone in one SMS of kind `confirm` through the outbox of pages. Only its
  SHA-256, over the agency, member, phone and code, is kept (`models.PhoneVerification`, one
  row per member and number): a new request replaces the code and resets its wrong attempts,
  and the member's other codes die (their rows for other numbers are deleted).
- A reply of exactly 6 digits from the phone (`take_code`): the right code of a live request
  (unverified, requested less than `CODE_LIFETIME` ago, fewer than `MAX_WRONG` wrong attempts)
  confirms the entry (`shared.roster.phones.mark_confirmed`, in the same transaction) and marks
  the row verified; a wrong one counts against every live code of the number, and the
  `MAX_WRONG`th kills it (a coordinator asks for a new one).
- A code's SMS is a row of the outbox like any other (test phones included), and its stored text
  loses the code when the code stops working (confirmed, replaced, dead or expired): its row is
  closed, and cancelled if it was still queued. Unverified codes older than `CODE_LIFETIME` are
  deleted by the SMS sender's sweep (`expire_overdue_codes`).

Data functions: they take the caller's session and never commit; the caller holds the phone's
lock (`pages.lock_phone`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import (
    DateTime,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import PAGES, VERIFICATIONS
from services.notifier.page_states import PageKind, SendState
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import PhoneConfirmationRequested
from shared.roster import phones
from shared.roster.models import RosterEntry

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(hours=72)
"""A code not sent back this long after it was requested no longer works."""
MAX_WRONG = 5
"""Wrong codes from the number that kill its code."""
CODE_SEND_WINDOW = timedelta(hours=10)
"""The code's SMS is sent within this or not at all (a coordinator asks for a new code), and
reaches the phone within it (its `ValidityPeriod`, Twilio's longest)."""

CODE_REMOVED = "(code closed)"
CONFIRMED_TEXT = "PST: this phone is confirmed for pages."
NEW_CODE_WORDS = "Ask your coordinator for a new code."
DEAD_CODE_TEXT = f"PST: too many wrong codes; that code no longer works. {NEW_CODE_WORDS}"
NO_CODE_TEXT = f"PST: no code is waiting for this phone. {NEW_CODE_WORDS}"

_CODE = re.compile(r"[0-9]{6}")
ENTRIES = cast(Table, RosterEntry.__table__)


def code_text(code: str | None) -> str:
    """The code's SMS: short, naming nobody; without a code, the stored text once it has died."""
    return f"PST: reply {code or CODE_REMOVED} to confirm this phone for peer support pages."


def wrong_code_text(tries_left: int) -> str:
    tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
    return f"PST: that code is not right; {tries} left. Nothing was changed."


def is_code(body: str) -> bool:
    """Whether the message is exactly 6 digits (around it, only space)."""
    return _CODE.fullmatch(body.strip()) is not None


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(*, agency: str, member_id: str, phone: str, code: str) -> str:
    """The SHA-256 kept of a code: tied to the member and the number, so a code is worth
    nothing from another phone or for another member."""
    return hashlib.sha256(f"{agency}\n{member_id}\n{phone}\n{code}".encode()).hexdigest()


# -- statements -------------------------------------------------------------------------------
_ENTRY_WITH_PHONE = select(ENTRIES.c.phone_verified_at).where(
    ENTRIES.c.agency == bindparam("agency"),
    ENTRIES.c.member_id == bindparam("member_id"),
    ENTRIES.c.phone == bindparam("phone"),
)
_FORGETTING_OTHER_NUMBERS = (
    delete(VERIFICATIONS)
    .where(
        VERIFICATIONS.c.agency == bindparam("agency"),
        VERIFICATIONS.c.member_id == bindparam("member_id"),
        VERIFICATIONS.c.phone != bindparam("phone"),
        VERIFICATIONS.c.verified_at.is_(None),
    )
    .returning(VERIFICATIONS.c.phone)
)
_UPSERT = pg_insert(VERIFICATIONS)
_REQUESTED = _UPSERT.on_conflict_do_update(
    index_elements=[VERIFICATIONS.c.agency, VERIFICATIONS.c.member_id, VERIFICATIONS.c.phone],
    set_={
        "code_hash": _UPSERT.excluded.code_hash,
        "requested_at": _UPSERT.excluded.requested_at,
        "sent_at": _UPSERT.excluded.sent_at,
        "attempts": 0,
        "verified_at": None,
    },
)
_CLOSING_SMS = (
    update(PAGES)
    .where(
        PAGES.c.kind == PageKind.CONFIRM.value,
        PAGES.c.phone == bindparam("closing_phone", type_=String),
        PAGES.c.closed_at.is_(None),
        PAGES.c.agency == bindparam("closing_agency", type_=String),
        PAGES.c.member_id == bindparam("closing_member", type_=String),
    )
    .values(
        body=code_text(None),
        closed_at=bindparam("closing_at", type_=DateTime(timezone=True)),
        closed_reason=bindparam("closing_reason", type_=String),
        state=case(
            (PAGES.c.state == SendState.QUEUED.value, SendState.CANCELLED.value),
            else_=PAGES.c.state,
        ),
    )
)
"""The member's code SMS to one number loses its code (`closed_at IS NULL` with the phone: the
open-phone index finds them)."""
_INSERT_SMS = insert(PAGES)

_CODES_OF_PHONE = (
    select(
        VERIFICATIONS.c.agency,
        VERIFICATIONS.c.member_id,
        VERIFICATIONS.c.code_hash,
        VERIFICATIONS.c.requested_at,
        VERIFICATIONS.c.attempts,
    )
    .join(
        ENTRIES,
        and_(
            ENTRIES.c.agency == VERIFICATIONS.c.agency,
            ENTRIES.c.member_id == VERIFICATIONS.c.member_id,
            ENTRIES.c.phone == VERIFICATIONS.c.phone,
        ),
    )
    .where(
        VERIFICATIONS.c.phone == bindparam("phone"),
        VERIFICATIONS.c.verified_at.is_(None),
        ENTRIES.c.phone_verified_at.is_(None),
    )
    .order_by(VERIFICATIONS.c.agency, VERIFICATIONS.c.member_id)
    .with_for_update(of=VERIFICATIONS)
)
"""The number's unconfirmed codes whose entry still has the number unconfirmed, locked."""
_HAS_UNCONFIRMED_ENTRY = select(
    exists().where(ENTRIES.c.phone == bindparam("phone"), ENTRIES.c.phone_verified_at.is_(None))
)
_VERIFYING = update(VERIFICATIONS).where(
    VERIFICATIONS.c.agency == bindparam("of_agency", type_=String),
    VERIFICATIONS.c.member_id == bindparam("of_member", type_=String),
    VERIFICATIONS.c.phone == bindparam("of_phone", type_=String),
)
_VERIFIED = _VERIFYING.values(verified_at=bindparam("verified_at", type_=DateTime(timezone=True)))
_COUNTING_WRONG = _VERIFYING.values(attempts=VERIFICATIONS.c.attempts + 1).returning(
    VERIFICATIONS.c.attempts
)

_EXPIRED = (
    delete(VERIFICATIONS)
    .where(
        VERIFICATIONS.c.verified_at.is_(None),
        VERIFICATIONS.c.requested_at <= bindparam("cutoff", type_=DateTime(timezone=True)),
    )
    .returning(VERIFICATIONS.c.agency, VERIFICATIONS.c.member_id, VERIFICATIONS.c.phone)
    .cte("expired")
)
_EXPIRING = (
    update(PAGES)
    .where(
        PAGES.c.kind == PageKind.CONFIRM.value,
        PAGES.c.phone == _EXPIRED.c.phone,
        PAGES.c.closed_at.is_(None),
        PAGES.c.agency == _EXPIRED.c.agency,
        PAGES.c.member_id == _EXPIRED.c.member_id,
    )
    .values(
        body=code_text(None),
        closed_at=bindparam("now", type_=DateTime(timezone=True)),
        closed_reason="expired",
        state=case(
            (PAGES.c.state == SendState.QUEUED.value, SendState.CANCELLED.value),
            else_=PAGES.c.state,
        ),
    )
    .add_cte(_EXPIRED)
)
"""Delete the expired codes and take the code out of their SMS: one statement (a data-modifying
CTE runs whether or not the UPDATE finds an SMS)."""


# -- requesting -------------------------------------------------------------------------------
async def request_code(
    session: AsyncSession, event: PhoneConfirmationRequested, *, now: datetime
) -> bool:
    """Text the member's phone a new code, unless the entry no longer has that number or has
    it confirmed already. Whether an SMS was queued."""
    params = {"agency": event.agency, "member_id": event.member_id, "phone": event.phone}
    entry = (await session.execute(_ENTRY_WITH_PHONE, params)).first()
    if entry is None or entry.phone_verified_at is not None:
        log.info(
            "phone confirmation not sent: the entry no longer has the number, or has it confirmed",
            extra={"agency": event.agency, "member_id": event.member_id},
        )
        return False
    forgotten = list((await session.scalars(_FORGETTING_OTHER_NUMBERS, params)).all())
    for phone in {event.phone, *forgotten}:
        await close_code_sms(
            session,
            agency=event.agency,
            member_id=event.member_id,
            phone=phone,
            reason="replaced",
            now=now,
        )
    code = new_code()
    await session.execute(
        _REQUESTED,
        {
            **params,
            "code_hash": code_hash(code=code, **params),
            "requested_at": now,
            "sent_at": now,
            "attempts": 0,
            "verified_at": None,
        },
    )
    await session.execute(
        _INSERT_SMS,
        {
            "id": uuid.uuid4(),
            "kind": PageKind.CONFIRM.value,
            "channel": "sms",
            "agency": event.agency,
            "member_id": event.member_id,
            "phone": event.phone,
            "body": code_text(code),
            "remind_supervisor": False,
            "state": SendState.QUEUED.value,
            "attempts": 0,
            "send_after": now,
            "send_deadline": now + CODE_SEND_WINDOW,
            "twilio_status_rank": 0,
            "created_at": now,
        },
    )
    return True


async def close_code_sms(
    session: AsyncSession, *, agency: str, member_id: str, phone: str, reason: str, now: datetime
) -> None:
    """The member's code SMS to `phone` loses its code (a queued one is cancelled)."""
    await session.execute(
        _CLOSING_SMS,
        {
            "closing_phone": phone,
            "closing_agency": agency,
            "closing_member": member_id,
            "closing_at": now,
            "closing_reason": reason,
        },
    )


# -- answering --------------------------------------------------------------------------------
class CodeAnswer(StrEnum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    DEAD = "dead"  # the number's codes died of wrong attempts
    NONE_WAITING = "none_waiting"  # no live code: expired, or never sent


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    answer: CodeAnswer
    tries_left: int = 0

    @property
    def text(self) -> str:
        match self.answer:
            case CodeAnswer.CONFIRMED:
                return CONFIRMED_TEXT
            case CodeAnswer.WRONG:
                return wrong_code_text(self.tries_left)
            case CodeAnswer.DEAD:
                return DEAD_CODE_TEXT
            case CodeAnswer.NONE_WAITING:
                return NO_CODE_TEXT


async def take_code(
    session: AsyncSession, *, phone: str, code: str, now: datetime
) -> CodeOutcome | None:
    """Apply a 6-digit message from `phone` as a code; None when the number has nothing to
    confirm (every entry with it has it confirmed), so the message is no code reply."""
    rows = (await session.execute(_CODES_OF_PHONE, {"phone": phone})).all()
    if not rows:
        if await session.scalar(_HAS_UNCONFIRMED_ENTRY, {"phone": phone}):
            return CodeOutcome(CodeAnswer.NONE_WAITING)
        return None
    live_since = now - CODE_LIFETIME
    live = [row for row in rows if row.requested_at > live_since and row.attempts < MAX_WRONG]
    if not live:
        dead = any(row.requested_at > live_since for row in rows)
        return CodeOutcome(CodeAnswer.DEAD if dead else CodeAnswer.NONE_WAITING)
    for row in live:
        member = {"agency": row.agency, "member_id": row.member_id, "phone": phone}
        if not hmac.compare_digest(row.code_hash, code_hash(code=code, **member)):
            continue
        if not await phones.mark_confirmed(session, now=now, **member):
            continue  # the roster changed the number meanwhile
        await session.execute(_VERIFIED, {**_of(member), "verified_at": now})
        await close_code_sms(session, reason="verified", now=now, **member)
        return CodeOutcome(CodeAnswer.CONFIRMED)
    tries_left = 0
    for row in live:
        member = {"agency": row.agency, "member_id": row.member_id, "phone": phone}
        attempts: int = (await session.execute(_COUNTING_WRONG, _of(member))).scalar_one()
        if attempts >= MAX_WRONG:
            await close_code_sms(session, reason="dead", now=now, **member)
        tries_left = max(tries_left, MAX_WRONG - attempts)
    if tries_left <= 0:
        return CodeOutcome(CodeAnswer.DEAD)
    return CodeOutcome(CodeAnswer.WRONG, tries_left)


def _of(member: dict[str, str]) -> dict[str, str]:
    """`_VERIFYING`'s parameters for one member's code."""
    return {
        "of_agency": member["agency"],
        "of_member": member["member_id"],
        "of_phone": member["phone"],
    }


# -- expiry -----------------------------------------------------------------------------------
async def expire_overdue_codes(sessions: SessionFactory, *, now: datetime) -> None:
    """Delete the unverified codes requested `CODE_LIFETIME` ago or more, and take the code out
    of their SMS: one statement, in a transaction of its own."""
    async with unit_of_work(sessions) as session:
        await session.execute(_EXPIRING, {"cutoff": now - CODE_LIFETIME, "now": now})
        await session.commit()
