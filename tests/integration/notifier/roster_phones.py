"""Roster entries for the notifier's phone tests, written the way the service writes them:
intake's `replace_roster` (which asks for a code for each new phone, through the outbox and
Kafka, to the running notifier), then, for a confirmed phone, the roster's own confirmation
(`tests.harness.roster_ready.make_ready`, which also credits a training today). And what the
tests read back: the entry, its code's row, the code SMS sent."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import select, text

from services.intake.roster import replace_roster
from services.notifier.contact_logs import ExchangeSetup
from services.notifier.models import PhoneVerification
from services.notifier.test_phones import answer_as_test_phone
from shared.db.unit_of_work import unit_of_work
from shared.events import PhoneConfirmationRequested
from shared.outbox.models import OutboxMessage
from shared.policy import load_registry
from shared.roster.entry import RosterEntryIn
from shared.roster.models import RosterEntry
from tests.harness.roster_ready import TEST_ACTOR, make_ready
from tests.integration.notifier.conftest import Notifier

REGISTRY = load_registry()
CODE_SMS = re.compile(r"PST: reply ([0-9]{6}) to confirm this phone for peer support pages\.")


def member_of(phone: str) -> str:
    return "M-" + phone[-3:]


def specialist(phone: str, **changes: Any) -> RosterEntryIn:
    return RosterEntryIn.model_validate(
        {
            "member_id": member_of(phone),
            "name": "Specialist " + phone[-3:],
            "agency": "kcmo",
            "phone": phone,
            "status": "active",
            "on_duty": False,
            "on_call": True,
            "under_investigation": False,
        }
        | changes
    )


async def load_roster(
    notifier: Notifier, *entries: RosterEntryIn, confirmed: frozenset[str] = frozenset()
) -> None:
    """Replace kcmo's roster with `entries` (their codes requested of the notifier); the
    members in `confirmed` get their phones confirmed and a training, in the same transaction
    (so the notifier, handling their requests after it, texts them nothing)."""
    async with unit_of_work(notifier.sessions) as session:
        await replace_roster(
            session,
            agency=REGISTRY.get("kcmo"),
            entries=list(entries),
            now=notifier.clock.now(),
            actor=TEST_ACTOR,
            topics=notifier.topics,
            source="test roster",
        )
        ready = [entry for entry in entries if entry.member_id in confirmed]
        if ready:
            await make_ready(
                session, agency="kcmo", entries=ready, now=notifier.clock.now(), registry=REGISTRY
            )
        await session.commit()


async def entry_of(notifier: Notifier, phone: str) -> RosterEntry:
    async with unit_of_work(notifier.sessions) as session:
        row = await session.scalar(
            select(RosterEntry).where(
                RosterEntry.agency == "kcmo", RosterEntry.member_id == member_of(phone)
            )
        )
        assert row is not None
        session.expunge(row)
        return row


async def verifications(notifier: Notifier) -> list[PhoneVerification]:
    async with unit_of_work(notifier.sessions) as session:
        rows = list(
            await session.scalars(
                select(PhoneVerification).order_by(
                    PhoneVerification.member_id, PhoneVerification.phone
                )
            )
        )
        session.expunge_all()
        return rows


async def code_rows(notifier: Notifier) -> list[dict[str, Any]]:
    """The code SMS rows of the outbox of pages, oldest first."""
    async with unit_of_work(notifier.sessions) as session:
        rows = await session.execute(
            text("SELECT * FROM notifier_pages WHERE kind = 'confirm' ORDER BY created_at, id")
        )
        return [dict(row._mapping) for row in rows]


async def confirmation_requests(notifier: Notifier) -> list[PhoneConfirmationRequested]:
    """The `PhoneConfirmationRequested` events in the outbox, in order."""
    async with unit_of_work(notifier.sessions) as session:
        payloads = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.event_type == "roster.phone_confirmation_requested")
            .order_by(OutboxMessage.id)
        )
        return [PhoneConfirmationRequested.model_validate(p) for p in payloads]


def code_in(body: str) -> str:
    found = CODE_SMS.fullmatch(body)
    assert found, body
    return found.group(1)


async def codes_sent(notifier: Notifier, phone: str, count: int) -> list[str]:
    """The codes of the first `count` SMS sent to `phone`, once there are that many."""
    return [code_in(m.form["Body"]) for m in await notifier.wait_messages(count, to=phone)][:count]


async def texted(notifier: Notifier, phone: str, body: str) -> list[str]:
    """Text `body` from `phone` through Twilio's signed webhook; what the TwiML reply said."""
    reply = await notifier.twilio.send_inbound_sms(phone, body)
    assert reply.status == 200
    return reply.said()


def as_test_phone(notifier: Notifier, phone: str, body: str) -> Awaitable[str | None]:
    """The console's "answer as test phone" (Twilio not configured)."""
    return answer_as_test_phone(
        phone=phone,
        body=body,
        sessions=notifier.sessions,
        topics=notifier.topics,
        clock=notifier.clock,
        setup=ExchangeSetup.of(notifier.settings, REGISTRY),
    )
