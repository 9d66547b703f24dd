"""The voice call's webhook: the script when Twilio asks for it, and the key the specialist
pressed (1 accepts, 2 declines, * or anything else hears the script again)."""

from __future__ import annotations

import uuid

from services.notifier.call_script import Keypress, call_twiml, closing_twiml, keypress_answer
from services.notifier.metrics import INBOUND
from services.notifier.models import NotifierPage
from services.notifier.outcomes import report_outcome
from services.notifier.page_rows import incident_from_facts
from services.notifier.page_states import Answer, PageKind
from services.notifier.page_text import SUPERVISOR_REMINDER
from services.notifier.pages import close_assignment
from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.errors import NotFound
from shared.events import PageFacts
from shared.kafka.topics import Topics

UNKNOWN_PAGE_WORDS = "This page is not known. Goodbye."
CLOSED_WORDS = "This page has closed and needs no answer. Thank you. Goodbye."
ANSWERED_WORDS = "This page has already been answered. Thank you. Goodbye."
ACCEPTED_WORDS = "Thank you. You accepted. The coordinator will be in touch."
DECLINED_WORDS = "Thank you. You declined. Goodbye."


async def handle_voice(
    *,
    page_id: uuid.UUID | None,
    digits: str | None,
    call_sid: str | None,
    action_url: str,
    sessions: SessionFactory,
    topics: Topics,
    clock: Clock,
) -> str:
    """The TwiML for Twilio: the gather script, or the closing words after an answer.

    A page id that names no specialist's page is refused (404); without one, the caller hears
    that the page is not known."""
    async with unit_of_work(sessions) as session:
        page = (
            await session.get(NotifierPage, page_id, with_for_update=True)
            if page_id is not None
            else None
        )
        if (
            page is None
            or page.kind != PageKind.PAGE
            or page.facts is None
            or page.assignment_id is None
        ):
            INBOUND.labels("voice_unknown_page").inc()
            if page_id is not None:
                raise NotFound("page: no page of this id is a specialist's call")
            return closing_twiml(UNKNOWN_PAGE_WORDS)
        if call_sid and page.twilio_sid is None:
            page.twilio_sid = call_sid
        if page.answer is not None:
            await session.commit()
            return closing_twiml(ANSWERED_WORDS)
        if page.closed_at is not None:
            await session.commit()
            return closing_twiml(CLOSED_WORDS)
        key = keypress_answer(digits) if digits is not None else None
        INBOUND.labels(f"voice_{key.value if key else 'script'}").inc()
        if key in (Keypress.ACCEPT, Keypress.DECLINE):
            answer = Answer.ACCEPTED if key == Keypress.ACCEPT else Answer.DECLINED
            closed = await close_assignment(
                session,
                assignment_id=page.assignment_id,
                at=clock.now(),
                reason="answered",
                answer=answer,
            )
            if not closed:
                await session.commit()
                return closing_twiml(ANSWERED_WORDS)
            await report_outcome(
                session,
                topics,
                page=page,
                outcome=answer.outcome,
                at=clock.now(),
                detail=f"keypress {digits}",
                channel="call",
            )
            await session.commit()
            return closing_twiml(_answered_words(answer, remind_supervisor=page.remind_supervisor))
        await session.commit()
        incident = incident_from_facts(PageFacts.model_validate(page.facts))
        return call_twiml(incident, action_url=action_url, remind_supervisor=page.remind_supervisor)


def _answered_words(answer: Answer, *, remind_supervisor: bool) -> str:
    if answer == Answer.DECLINED:
        return DECLINED_WORDS
    return f"{ACCEPTED_WORDS} {SUPERVISOR_REMINDER}" if remind_supervisor else ACCEPTED_WORDS
