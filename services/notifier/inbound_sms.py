"""An SMS from a specialist's phone: an answer to a page, STOP/START, an answer to a contact-log
exchange, a phone's confirmation code, an availability keyword, `LOG`, or anything else.

One transaction per message, serialised per phone number. A number that is on no roster changes
nothing and gets no reply. What takes the message, first match:
1. STOP and START (Twilio's keywords, as today).
2. A page answer with its code (`YES 4821`).
3. The phone's open contact-log exchange (`contact_logs`), for a message its question takes
   (or SKIP), except a bare YES/NO word (YES, Y, NO, N, ACCEPT, DECLINE) while a page waits
   for an answer, which answers that page. Digits are the exchange's even though the page
   grammar reads `1` and `2` as YES and NO: the page's text asks for its code, and the
   exchange's questions for numbers.
4. Exactly 6 digits from a number that a roster has unconfirmed: its confirmation code
   (`phone_confirmations`). No page code has 6 digits and no exchange answer is 6 digits long.
5. An availability keyword (`OFF`, `ON`, `OFF 8H`, `STATUS`: `availability_keywords`); from a
   number confirmed on no roster, nothing changes and the reply says to confirm it first.
6. The open exchange again: anything else is not understood, and gets the question's help.
7. A bare page answer (as today).
8. `LOG`: a direct exchange starts.
9. The help text, or the availability keywords' forms for a message that tries one with a
   duration (`OFF 9D`).
The exchange's own messages go out through the outbox of pages (the sender loop), not in the
TwiML reply. Automatic replies (the help texts, the exchange's included, "that page has
closed", a wrong, dead or missing code, and every reply to an availability keyword) go at most
`HELP_REPLIES_PER_WINDOW` times per window to a number, counted in the database, so two robots
answering each other stop soon, across restarts and processes; a keyword's change is made even
when its reply is not sent. The reply to the right code always goes. Twilio's MessageSid makes a
redelivered webhook change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.availability_keywords import FORMS_TEXT, take_keyword
from services.notifier.contact_log_questions import is_log_keyword, is_number
from services.notifier.contact_log_rows import OpenExchange, roster_agency
from services.notifier.contact_logs import (
    ExchangeSetup,
    live_exchange,
    start_direct,
    take_message,
    understands,
)
from services.notifier.metrics import INBOUND
from services.notifier.models import NotifierPage
from services.notifier.outcomes import outcome_event, report_outcome, report_outcomes
from services.notifier.page_states import Answer
from services.notifier.page_text import SUPERVISOR_REMINDER
from services.notifier.pages import (
    answerable_pages,
    close_assignment,
    is_opted_out,
    lock_phone,
    on_roster,
    open_sms_pages,
    record_opt_out,
    remove_opt_out,
    take_auto_reply,
)
from services.notifier.phone_confirmations import CodeAnswer, is_code, take_code
from services.notifier.send_signals import pages_queued
from services.notifier.sms_reply import (
    HELP_TEXT,
    Accept,
    Decline,
    NoPageAnswered,
    OpenPage,
    OptIn,
    OptOut,
    SmsReply,
    parse_reply,
    resolve_reply,
)
from shared.clock import Clock
from shared.db.commit_signals import raise_flag
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.kafka.topics import Topics
from shared.processed_events import claim_event
from shared.roster.availability import looks_like_availability, parse_availability

log = logging.getLogger(__name__)

CONSUMER = "notifier.inbound-sms"
CODE_REPLY_KIND = "code"
KEYWORD_REPLY_KIND = "availability"
NO_OPEN_PAGE_TEXT = "No page is waiting for your answer; nothing was changed."
UNKNOWN_CODE_TEXT = "Page {code} has closed or is not yours; nothing was changed."


@dataclass(frozen=True, slots=True)
class InboundSms:
    message_sid: str
    from_number: str
    body: str


def accepted_text(code: str | None, *, remind_supervisor: bool) -> str:
    words = f"Thank you: you accepted page {code}." if code else "Thank you: you accepted."
    words += " The coordinator will be in touch."
    return f"{words} {SUPERVISOR_REMINDER}" if remind_supervisor else words


def declined_text(code: str | None) -> str:
    return f"Thank you: you declined page {code}." if code else "Thank you: you declined."


async def handle_inbound_sms(
    message: InboundSms,
    *,
    sessions: SessionFactory,
    topics: Topics,
    clock: Clock,
    setup: ExchangeSetup,
) -> str | None:
    """Apply the message; returns the reply to send back in TwiML, if any."""
    phone = message.from_number.strip()
    async with unit_of_work(sessions) as session:
        if message.message_sid and not await claim_event(
            session, consumer=CONSUMER, event_id=message.message_sid
        ):
            INBOUND.labels("sms_duplicate").inc()
            return None
        await lock_phone(session, phone)
        if not await on_roster(session, phone):
            INBOUND.labels("sms_not_on_roster").inc()
            log.info("SMS from a number on no roster; ignored")
            await session.commit()
            return None
        now = clock.now()
        reply = parse_reply(message.body, opted_out=await is_opted_out(session, phone))
        INBOUND.labels(f"sms_{type(reply).__name__.lower()}").inc()
        answer: str | None = None
        queued = False
        match reply:
            case OptOut():
                await _opt_out(session, topics, phone=phone, now=now)
            case OptIn():
                await remove_opt_out(session, phone)
            case Accept(code=str()) | Decline(code=str()):
                answer = await _answer(session, topics, reply, phone=phone, now=now)
            case _:
                answer, queued = await _other_message(
                    session, topics, reply, message.body, phone=phone, now=now, setup=setup
                )
        if queued:
            await raise_flag(session, pages_queued("sms"))
        await session.commit()
        return answer


async def _other_message(
    session: AsyncSession,
    topics: Topics,
    reply: SmsReply,
    body: str,
    *,
    phone: str,
    now: datetime,
    setup: ExchangeSetup,
) -> tuple[str | None, bool]:
    """Steps 3 to 9 of the precedence (see the module's docstring): the TwiML reply, if any,
    and whether an SMS was queued."""
    live = await live_exchange(session, phone=phone, now=now, public_url=setup.public_url)
    queued = live.queued
    exchange: OpenExchange | None = live.exchange
    if exchange is not None and await _answers_a_page(session, reply, body, phone=phone):
        exchange = None
    if exchange is not None and understands(exchange, body):
        INBOUND.labels("sms_contact_log").inc()
        queued |= await take_message(session, topics, exchange, body, now=now, setup=setup)
        return None, queued
    if is_code(body):
        outcome = await take_code(session, phone=phone, code=body.strip(), now=now)
        if outcome is not None:
            INBOUND.labels(f"sms_code_{outcome.answer.value}").inc()
            if outcome.answer is CodeAnswer.CONFIRMED:
                return outcome.text, queued
            limited = await _rate_limited(
                session, phone=phone, now=now, text=outcome.text, kind=CODE_REPLY_KIND
            )
            return limited, queued
    command = parse_availability(body)
    if command is not None:
        INBOUND.labels(f"sms_availability_{type(command).__name__.lower()}").inc()
        said = await take_keyword(session, command, phone=phone, now=now, setup=setup)
        limited = await _rate_limited(
            session, phone=phone, now=now, text=said, kind=KEYWORD_REPLY_KIND
        )
        return limited, queued
    if exchange is not None:
        INBOUND.labels("sms_contact_log").inc()
        queued |= await take_message(session, topics, exchange, body, now=now, setup=setup)
        return None, queued
    if isinstance(reply, Accept | Decline):
        return await _answer(session, topics, reply, phone=phone, now=now), queued
    if is_log_keyword(body):
        queued |= await _start_direct(session, phone=phone, now=now, setup=setup)
        return None, queued
    helping = FORMS_TEXT if looks_like_availability(body) else HELP_TEXT
    return await _rate_limited(session, phone=phone, now=now, text=helping), queued


async def _answers_a_page(session: AsyncSession, reply: SmsReply, body: str, *, phone: str) -> bool:
    """Whether a message that an open exchange would otherwise take answers a page instead: a
    bare YES/NO word (not a digit) while a page waits for an answer."""
    if not isinstance(reply, Accept | Decline) or is_number(body):
        return False
    return bool(await answerable_pages(session, phone))


async def _start_direct(
    session: AsyncSession, *, phone: str, now: datetime, setup: ExchangeSetup
) -> bool:
    """`LOG`: a direct exchange for the agency whose roster has the phone."""
    agency = await roster_agency(session, phone)
    if agency is None:
        return False
    INBOUND.labels("sms_log_started").inc()
    return await start_direct(
        session, phone=phone, agency=agency, now=now, public_url=setup.public_url
    )


async def _opt_out(session: AsyncSession, topics: Topics, *, phone: str, now: datetime) -> None:
    """Record the opt-out; the number's open SMS pages are reported `opted_out` (the dispatcher
    calls instead and tells the coordinators). Twilio itself confirms STOP to the sender."""
    if not await record_opt_out(session, phone=phone, at=now):
        return
    reports = [
        outcome_event(page, outcome="opted_out", at=now, detail="the specialist replied STOP")
        for page in await open_sms_pages(session, phone)
    ]
    await report_outcomes(session, topics, [event for event in reports if event is not None])


async def _answer(
    session: AsyncSession, topics: Topics, reply: Accept | Decline, *, phone: str, now: datetime
) -> str | None:
    pages = {str(page.id): page for page in await answerable_pages(session, phone)}
    open_pages = [
        OpenPage(page_id=page_id, code=page.code or "", sent_at=page.sent_at or page.created_at)
        for page_id, page in pages.items()
    ]
    resolved = resolve_reply(reply, open_pages)
    if isinstance(resolved, NoPageAnswered):
        closed = (
            UNKNOWN_CODE_TEXT.format(code=reply.code)
            if reply.code is not None
            else NO_OPEN_PAGE_TEXT
        )
        return await _rate_limited(session, phone=phone, now=now, text=closed)
    page = pages[resolved.page_id]
    outcome = Answer.ACCEPTED if resolved.accepted else Answer.DECLINED
    if not await _close_answered(session, topics, page, outcome, now=now):
        return await _rate_limited(session, phone=phone, now=now, text=NO_OPEN_PAGE_TEXT)
    if outcome == Answer.ACCEPTED:
        return accepted_text(page.code, remind_supervisor=page.remind_supervisor)
    return declined_text(page.code)


async def _close_answered(
    session: AsyncSession, topics: Topics, page: NotifierPage, answer: Answer, *, now: datetime
) -> bool:
    if page.assignment_id is None:
        return False
    closed = await close_assignment(
        session, assignment_id=page.assignment_id, at=now, reason="answered", answer=answer
    )
    if not closed:
        return False
    await report_outcome(
        session,
        topics,
        page=page,
        outcome=answer.outcome,
        at=now,
        detail="SMS reply",
        channel="sms",
    )
    return True


async def _rate_limited(
    session: AsyncSession, *, phone: str, now: datetime, text: str, kind: str = "help"
) -> str | None:
    """`text`, unless the number has had its share of automatic replies this window."""
    if not await take_auto_reply(session, phone=phone, kind=kind, at=now):
        INBOUND.labels("sms_auto_reply_suppressed").inc()
        return None
    return text
