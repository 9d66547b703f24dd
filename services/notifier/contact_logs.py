"""The contact-log exchange by SMS (issue 13): after an accepted call-out ends the specialist is
asked, one question an SMS, how many people they supported, members or family, the referral and
the hours given (`contact_log_questions`), and the answers become one anonymous `ContactLogged`
(830 §IV.D.3.f) and, when the assignment was overtime-eligible, an `OvertimeHoursLogged` for
payroll (830 §III.D.1). A specialist may also text `LOG` to log a member's direct call (FOP #4
§A.1). The first SMS carries a one-use link to the console's phone-sized form, which completes
the same exchange.

- One open exchange per phone: a question's answer must be unambiguous. A newer one waits, and
  its first question is sent when the open one ends (logged, nothing, skipped or expired).
- Only parsed values are kept while the exchange is open, and none once it ends (the row stays,
  for idempotence: one exchange per assignment). `ContactLogged` names neither the row, the
  assignment nor the specialist, and says no more of when than its month: its `occurred_at` is
  the first instant of that local month. `OvertimeHoursLogged` is a separate event with no id
  in common.
- An exchange expires 72 hours after its latest question, unanswered, with nothing kept. It is
  checked whenever the phone's exchanges are touched (a message, an invitation, the form), and
  swept by the SMS sender's loop (`expire_overdue_exchanges`) so that the next waiting one is
  asked: no timer lives in memory.
- Every SMS is a row of the outbox of pages (kind `contact`), sent by the sender loop like a
  notice: the same rate limits, retries, status callbacks and test phones.
- The form's token is 256 random bits; only its SHA-256 is stored, and the stored text of the SMS
  that carried it loses the link when the exchange ends. It is usable while the exchange is open
  and unexpired, once.

Data functions: they take the caller's session and never commit; the caller holds the phone's
lock (`pages.lock_phone`), except for the form's functions, which take it themselves.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.contact_log_questions import (
    Asked,
    Completed,
    ContactAnswers,
    Ended,
    EndReason,
    NotUnderstood,
    Source,
    form_link,
    form_token_hash,
    local_month,
    looks_like_form_token,
    month_start,
    new_form_token,
    opening_text,
    take_answer,
)
from services.notifier.contact_log_rows import (
    ExchangeState,
    OpenExchange,
    end,
    form_of_token,
    insert_waiting,
    keep_progress,
    mark_open,
    oldest_waiting,
    open_exchange_of_phone,
    open_exchange_of_token,
    phone_of_token,
    queue_message,
)
from services.notifier.metrics import INBOUND
from services.notifier.pages import lock_phone, take_auto_reply
from services.notifier.send_signals import pages_queued
from shared.db.commit_signals import raise_flag
from shared.events import ContactLogged, ContactLogInvited, Event, OvertimeHoursLogged
from shared.kafka.topics import Topics
from shared.outbox.rows import write_events
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.policy import AgencyRegistry
    from shared.policy.model import AgencyConfig

EXCHANGE_LIFETIME = timedelta(hours=72)
"""An exchange unanswered this long after its latest question ends with nothing kept."""
HELP_REPLY_KIND = "contact_help"

_END_STATES = {EndReason.NOTHING: ExchangeState.NOTHING, EndReason.SKIPPED: ExchangeState.SKIPPED}


@dataclass(frozen=True, slots=True)
class ExchangeSetup:
    """What an exchange needs beyond the session: the public URL (the form's link) and the
    agencies (a log counts in its agency's local month; the availability keywords' replies speak
    the agency's clock and lifecycle)."""

    public_url: str
    registry: AgencyRegistry | None = None
    """None: the agencies of `agency_data` (`PST_AGENCY_DATA`; None: the packaged ones),
    loaded when a log first completes in the process."""
    agency_data: Path | None = None

    @classmethod
    def of(cls, settings: Settings, registry: AgencyRegistry | None = None) -> ExchangeSetup:
        return cls(str(settings.public_url), registry, settings.agency_data)

    def agency(self, agency: str) -> AgencyConfig:
        registry = self.registry if self.registry is not None else agencies_of(self.agency_data)
        return registry.get(agency)

    def zone(self, agency: str) -> ZoneInfo:
        return self.agency(agency).zone


@functools.cache
def agencies_of(data_dir: Path | None) -> AgencyRegistry:
    """The agencies of `data_dir` (None: the packaged ones), loaded once, for a process whose
    composition root gave none. The
    policy core is imported here, not at the top: it costs the notifier half a second and some
    17 MiB (shapely, numpy) that it needs for nothing else."""
    from shared.policy import load_registry

    return load_registry(data_dir)


# -- starting ---------------------------------------------------------------------------------
async def invite(
    session: AsyncSession, event: ContactLogInvited, *, now: datetime, public_url: str
) -> bool:
    """Unless the assignment has an exchange already: its exchange, asked at once when the
    phone has none open, else waiting. Whether an SMS was queued."""
    if not await insert_waiting(
        session,
        agency=event.agency,
        source="incident",
        phone=event.phone,
        assignment_id=event.assignment_id,
        overtime_eligible=event.overtime_eligible,
        now=now,
    ):
        return False
    return await open_next(session, phone=event.phone, now=now, public_url=public_url)


async def start_direct(
    session: AsyncSession, *, phone: str, agency: str, now: datetime, public_url: str
) -> bool:
    """A direct exchange (`LOG`): no assignment, never overtime. Whether an SMS was queued."""
    await insert_waiting(
        session,
        agency=agency,
        source="direct",
        phone=phone,
        assignment_id=None,
        overtime_eligible=False,
        now=now,
    )
    return await open_next(session, phone=phone, now=now, public_url=public_url)


async def open_next(session: AsyncSession, *, phone: str, now: datetime, public_url: str) -> bool:
    """Unless the phone has an open exchange that has not expired: end the expired one, if any,
    and ask the phone's longest-waiting exchange its first question, with the form's link.
    Whether an SMS was queued."""
    current = await open_exchange_of_phone(session, phone)
    if current is not None:
        if current.expires_at > now:
            return False
        await _end(session, current, ExchangeState.EXPIRED, at=now)
    waiting = await oldest_waiting(session, phone)
    if waiting is None:
        return False
    token = new_form_token()
    page_id = uuid.uuid4()
    await mark_open(
        session,
        waiting.id,
        token_hash=form_token_hash(token),
        link_page_id=page_id,
        expires_at=now + EXCHANGE_LIFETIME,
    )
    await queue_message(
        session,
        agency=waiting.agency,
        phone=phone,
        body=opening_text(waiting.source, form_link(public_url, token)),
        now=now,
        page_id=page_id,
    )
    return True


# -- answering by SMS -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LiveExchange:
    """The phone's open exchange that a message may answer (None: there is none), and whether
    finding out queued an SMS (an expired one ended and the next one was asked)."""

    exchange: OpenExchange | None
    queued: bool = False


async def live_exchange(
    session: AsyncSession, *, phone: str, now: datetime, public_url: str
) -> LiveExchange:
    """The phone's open, unexpired exchange, locked. An expired one is ended first and the next
    waiting one asked; a message that arrives then is not taken as an answer to a question its
    sender has not seen yet."""
    current = await open_exchange_of_phone(session, phone)
    if current is None:
        return LiveExchange(None)
    if current.expires_at > now:
        return LiveExchange(current)
    return LiveExchange(
        None, queued=await open_next(session, phone=phone, now=now, public_url=public_url)
    )


def understands(exchange: OpenExchange, body: str) -> bool:
    """Whether the open exchange's question takes the message (an answer, or SKIP): what it
    does not take may be meant for something else (`inbound_sms`)."""
    return not isinstance(take_answer(exchange.progress, body), NotUnderstood)


async def take_message(
    session: AsyncSession,
    topics: Topics,
    exchange: OpenExchange,
    body: str,
    *,
    now: datetime,
    setup: ExchangeSetup,
) -> bool:
    """Apply an SMS to the open exchange: the next question, the log, the end, or (for anything
    else, kept nowhere) the question's help text, as often as automatic replies may go to the
    number. Whether an SMS was queued."""
    step = take_answer(exchange.progress, body)
    reply: str
    match step:
        case NotUnderstood(text=reply):
            if not await take_auto_reply(
                session, phone=exchange.phone, kind=HELP_REPLY_KIND, at=now
            ):
                INBOUND.labels("sms_auto_reply_suppressed").inc()
                return False
        case Asked(progress=progress, text=reply):
            await keep_progress(session, exchange.id, progress, expires_at=now + EXCHANGE_LIFETIME)
        case Completed(answers=answers, text=reply):
            zone = setup.zone(exchange.agency)
            await log_contact(session, topics, exchange, answers, zone=zone, now=now)
            await _end(session, exchange, ExchangeState.LOGGED, at=now)
        case Ended(reason=reason, text=reply):
            await _end(session, exchange, _END_STATES[reason], at=now)
    await queue_message(session, agency=exchange.agency, phone=exchange.phone, body=reply, now=now)
    if isinstance(step, Completed | Ended):
        await open_next(session, phone=exchange.phone, now=now, public_url=setup.public_url)
    return True


async def log_contact(
    session: AsyncSession,
    topics: Topics,
    exchange: OpenExchange,
    answers: ContactAnswers,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """`ContactLogged` in the agency's local month (`zone`) and, only for an overtime-eligible
    assignment, `OvertimeHoursLogged`: two events with nothing in common but the agency and
    the hours, in the caller's transaction."""
    events: list[Event] = [
        ContactLogged(
            occurred_at=month_start(now, zone),
            contact_id=uuid.uuid4(),
            agency=exchange.agency,
            month=local_month(now, zone),
            source=exchange.source,
            people=answers.people,
            kind=answers.kind,
            referral=answers.referral,
            hours=answers.hours,
        )
    ]
    if exchange.overtime_eligible and exchange.assignment_id is not None:
        events.append(
            OvertimeHoursLogged(
                occurred_at=now,
                assignment_id=exchange.assignment_id,
                agency=exchange.agency,
                hours=answers.hours,
            )
        )
    await write_events(session, topics, *events)


async def _end(
    session: AsyncSession, exchange: OpenExchange, state: ExchangeState, *, at: datetime
) -> None:
    await end(session, exchange, state, closed_body=opening_text(exchange.source, None), at=at)


# -- the console's form -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FormExchange:
    """What the form may show of its exchange: nothing that identifies anyone or anything."""

    source: Source
    expires_at: datetime


async def exchange_for_form(
    session: AsyncSession, token: str, now: datetime
) -> FormExchange | None:
    """The exchange the form's token opens; None when the token is unknown, used, expired or its
    exchange has ended. Reads only."""
    if not looks_like_form_token(token):
        return None
    found = await form_of_token(session, form_token_hash(token), now)
    return FormExchange(*found) if found is not None else None


async def complete_by_form(
    session: AsyncSession,
    *,
    topics: Topics,
    registry: AgencyRegistry,
    settings: Settings,
    token: str,
    answers: ContactAnswers,
    now: datetime,
) -> bool:
    """Log `answers` for the token's exchange, as its SMS exchange would, and end it (the token
    with it); the phone's next waiting exchange is asked. False when the token is no longer
    usable. Takes the phone's lock; the caller commits."""
    exchange = await _form_exchange(session, token, now=now, public_url=str(settings.public_url))
    if exchange is None:
        return False
    zone = registry.get(exchange.agency).zone
    await log_contact(session, topics, exchange, answers, zone=zone, now=now)
    await _end(session, exchange, ExchangeState.LOGGED, at=now)
    await _open_next_flagged(session, exchange.phone, now=now, public_url=str(settings.public_url))
    return True


async def skip_by_form(
    session: AsyncSession, *, settings: Settings, token: str, now: datetime
) -> bool:
    """End the token's exchange with nothing logged (the form's "nothing to log"); False when
    the token is no longer usable. Takes the phone's lock; the caller commits."""
    exchange = await _form_exchange(session, token, now=now, public_url=str(settings.public_url))
    if exchange is None:
        return False
    await _end(session, exchange, ExchangeState.SKIPPED, at=now)
    await _open_next_flagged(session, exchange.phone, now=now, public_url=str(settings.public_url))
    return True


async def _form_exchange(
    session: AsyncSession, token: str, *, now: datetime, public_url: str
) -> OpenExchange | None:
    """The token's open exchange, its phone locked; an expired one is ended (and the next one
    asked) and gives None."""
    if not looks_like_form_token(token):
        return None
    token_hash = form_token_hash(token)
    phone = await phone_of_token(session, token_hash)
    if phone is None:
        return None
    await lock_phone(session, phone)
    exchange = await open_exchange_of_token(session, token_hash)
    if exchange is None:
        return None
    if exchange.expires_at <= now:
        await _open_next_flagged(session, phone, now=now, public_url=public_url)
        return None
    return exchange


async def _open_next_flagged(
    session: AsyncSession, phone: str, *, now: datetime, public_url: str
) -> None:
    if await open_next(session, phone=phone, now=now, public_url=public_url):
        await raise_flag(session, pages_queued("sms"))
