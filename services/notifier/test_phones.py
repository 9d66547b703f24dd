"""The console's test phones: while Twilio is not configured, a coordinator answers as a roster
phone from the console, through the same handlers as Twilio's webhooks (an SMS reply, a key
pressed in a call), and sees what the service would say back. The caller checks that Twilio is
not configured; the pages kept unsent that these answer reach the console as
`MessageKeptUnsent` events (`sender`).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ElementTree

from services.notifier.contact_logs import ExchangeSetup
from services.notifier.inbound_sms import InboundSms, handle_inbound_sms
from services.notifier.models import NotifierPage
from services.notifier.page_states import PageKind
from services.notifier.voice import handle_voice
from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.errors import InvalidInput, NotFound
from shared.kafka.topics import Topics

MESSAGE_SID_PREFIX = "console-"
"""Test phones' messages are told apart from Twilio's (`SM…`) by their ids."""
KEYS = frozenset("0123456789*#")
ACTION_URL = "console:test-phone"
"""Where the call's script would post the next key: the test phone presses again instead."""


def new_message_sid() -> str:
    """A fresh id for one test phone's message (the inbound SMS handler claims it once)."""
    return f"{MESSAGE_SID_PREFIX}{uuid.uuid4().hex}"


async def answer_as_test_phone(
    *,
    phone: str,
    body: str,
    sessions: SessionFactory,
    topics: Topics,
    clock: Clock,
    setup: ExchangeSetup,
) -> str | None:
    """Apply `body` as an SMS from `phone` (`inbound_sms.handle_inbound_sms`: a reply to a
    page, STOP/START, a contact-log answer, a phone's confirmation code, an availability
    keyword, LOG, help); returns the reply the service would send back in TwiML, if any (the
    contact-log exchange's messages and the confirmation codes' SMS are kept unsent like any
    other, and reach the test phones as `MessageKeptUnsent`). Without `setup`, the packaged agencies
    and the environment's `PST_PUBLIC_URL` make the form's links."""
    return await handle_inbound_sms(
        InboundSms(message_sid=new_message_sid(), from_number=phone, body=body),
        sessions=sessions,
        topics=topics,
        clock=clock,
        setup=setup,
    )


async def press_key_as_test_phone(
    *, page_id: uuid.UUID, digit: str, sessions: SessionFactory, topics: Topics, clock: Clock
) -> str:
    """Press `digit` in the call of `page_id` (`voice.handle_voice`: 1 accepts, 2 declines,
    anything else hears the script again); returns the first words the call says back.
    NotFound when `page_id` is not a specialist's call; InvalidInput when `digit` is not one
    key of a phone's keypad."""
    if len(digit) != 1 or digit not in KEYS:
        raise InvalidInput("digit: one key of a phone's keypad (0-9, * or #)")
    async with unit_of_work(sessions) as session:
        page = await session.get(NotifierPage, page_id)
        if page is None or page.kind != PageKind.PAGE or page.channel != "call":
            raise NotFound("page: no page of this id is a specialist's call")
    twiml = await handle_voice(
        page_id=page_id,
        digits=digit,
        call_sid=None,
        action_url=ACTION_URL,
        sessions=sessions,
        topics=topics,
        clock=clock,
    )
    return spoken_words(twiml)[0]


def spoken_words(twiml: str) -> list[str]:
    """What the TwiML says, in order."""
    # Our own TwiML (`call_script`), never a stranger's XML.
    root = ElementTree.fromstring(twiml)  # noqa: S314
    return [say.text or "" for say in root.iter("Say")]
