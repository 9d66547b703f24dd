"""The contact-log exchange by SMS (issue 13), through the notifier's event contract, real HTTP
and the Twilio stand-in: the invitation, each question and answer, what is logged (and what is
never kept), one exchange at a time per phone, LOG, the console's form, and the precedence of
page answers."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notifier.contact_log_questions import (
    HOURS_QUESTION,
    KIND_QUESTION,
    LINK_REMOVED,
    LOGGED_TEXT,
    NOTHING_LOGGED_TEXT,
    REFERRAL_QUESTION,
    SKIPPED_TEXT,
    ContactAnswers,
    Step,
    form_token_hash,
    help_text,
)
from services.notifier.contact_logs import (
    ExchangeSetup,
    FormExchange,
    complete_by_form,
    exchange_for_form,
    skip_by_form,
)
from services.notifier.page_commands import PageCommandHandler
from services.notifier.sms_reply import HELP_TEXT
from services.notifier.test_phones import answer_as_test_phone
from shared.clock import ManualClock
from shared.db.engine import build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import ContactLogged, ContactLogInvited, OvertimeHoursLogged, PageRequested
from shared.policy import load_registry
from shared.settings import Settings
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    FAST,
    KCMO_FACTS,
    OTHER_SPECIALIST_PHONE,
    SPECIALIST_PHONE,
    STRANGER_PHONE,
    Notifier,
    StartNotifier,
)
from tests.integration.notifier.test_notices_and_test_phones import kept_unsent

TOKEN = re.compile(r"/console/log/([A-Za-z0-9_-]{43})")
REGISTRY = load_registry()


def invitation(
    notifier: Notifier,
    *,
    phone: str = SPECIALIST_PHONE,
    overtime_eligible: bool = True,
    assignment_id: uuid.UUID | None = None,
) -> ContactLogInvited:
    now = notifier.clock.now()
    return ContactLogInvited(
        occurred_at=now,
        assignment_id=assignment_id or uuid.uuid4(),
        incident_id=uuid.uuid4(),
        agency="kcmo",
        member_id="M-" + phone[-3:],
        phone=phone,
        accepted_at=now - timedelta(hours=3),
        ended_at=now,
        overtime_eligible=overtime_eligible,
    )


async def texts_to(notifier: Notifier, phone: str, count: int) -> list[str]:
    """The bodies of the first `count` SMS sent to `phone`, once there are that many."""
    return [m.form["Body"] for m in (await notifier.wait_messages(count, to=phone))][:count]


async def sent_to(notifier: Notifier, phone: str) -> list[str]:
    return [m.form["Body"] for m in notifier.twilio.messages if m.form.get("To") == phone]


async def answer(notifier: Notifier, phone: str, body: str, **kwargs: Any) -> list[str]:
    """Text `body` from `phone`; returns what the TwiML reply said (the exchange says nothing
    there: its messages are sent by the sender loop)."""
    reply = await notifier.twilio.send_inbound_sms(phone, body, **kwargs)
    assert reply.status == 200
    return reply.said()


async def exchanges(notifier: Notifier) -> list[dict[str, Any]]:
    async with unit_of_work(notifier.sessions) as session:
        rows = await session.execute(
            text("SELECT * FROM notifier_contact_logs ORDER BY created_at, id")
        )
        return [dict(row._mapping) for row in rows]


async def logged(notifier: Notifier, event_type: str) -> list[dict[str, Any]]:
    async with unit_of_work(notifier.sessions) as session:
        payloads = await session.scalars(
            text("SELECT payload FROM outbox_messages WHERE event_type = :t ORDER BY id"),
            {"t": event_type},
        )
        return list(payloads)


def token_of(body: str) -> str:
    found = TOKEN.search(body)
    assert found, body
    return found.group(1)


async def test_an_invitation_is_one_sms_that_names_nobody_and_carries_a_one_use_link(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        invited = invitation(notifier)
        # Redelivered, and repeated under another event id: one exchange, one SMS.
        await notifier.publish(
            invited, invited, invited.model_copy(update={"event_id": uuid.uuid4()})
        )
        [body] = await texts_to(notifier, SPECIALIST_PHONE, 1)
        assert body.startswith("Peer support: your call-out has ended.")
        assert "How many people did you support? Reply a number 0-50 (0 if none)." in body
        token = token_of(body)
        assert f"{notifier.url}/console/log/{token}" in body
        words = body.replace(notifier.url, "")
        for fact in ("Grand", "shooting", "kcmo", "Specialist", "M-111", "Nov", "Fri"):
            assert fact not in words, fact
        assert not re.search(r"[0-9]{1,2}:[0-9]{2}", words), "no time"

        [row] = await exchanges(notifier)
        assert (row["state"], row["step"], row["source"], row["assignment_id"]) == (
            "open",
            "people",
            "incident",
            invited.assignment_id,
        )
        assert row["form_token_hash"] == form_token_hash(token), "only the token's SHA-256"
        assert row["expires_at"] == notifier.clock.now() + timedelta(hours=72)
        assert token not in repr(row)
        async with unit_of_work(notifier.sessions) as session:
            [page] = (
                await session.execute(text("SELECT * FROM notifier_pages WHERE kind = 'contact'"))
            ).all()
        assert (page.assignment_id, page.incident_id, page.member_id, page.code) == (
            None,
            None,
            None,
            None,
        ), "the SMS is tied to no assignment or incident"
        assert page.id == row["link_page_id"]
        [message] = notifier.twilio.messages
        assert message.form["StatusCallback"] == f"{notifier.url}/v1/twilio/status?page={page.id}"
        assert message.form["ValidityPeriod"] == "3600"
        assert message.sid is not None
        assert (await notifier.twilio.send_status(message.sid, "delivered")).status == 204
        await notifier.settle()
        assert len(notifier.twilio.messages) == 1
        assert await notifier.outcomes() == [], "nothing is reported to the dispatcher"


async def test_a_whole_exchange_logs_one_contact_in_the_local_month_and_overtime_when_eligible(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        # 30 November, 21:30 in Kansas City; already December in UTC.
        notifier.clock.set(datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.add_specialist(OTHER_SPECIALIST_PHONE)
        eligible = invitation(notifier, overtime_eligible=True)
        await notifier.publish(eligible)
        [opening] = await texts_to(notifier, SPECIALIST_PHONE, 1)

        for body, question, count in (
            ("3", KIND_QUESTION, 2),
            ("f", REFERRAL_QUESTION, 3),
            ("2", HOURS_QUESTION, 4),
            ("1,5", LOGGED_TEXT, 5),
        ):
            assert await answer(notifier, SPECIALIST_PHONE, body) == []
            assert (await texts_to(notifier, SPECIALIST_PHONE, count))[-1] == question

        [contact] = await logged(notifier, "contact.logged")
        event = ContactLogged.model_validate(contact)
        assert (event.agency, event.month, event.source) == ("kcmo", "2026-11", "incident")
        assert (event.people, event.kind, event.referral, event.hours) == (3, "family", "mhp", 1.5)
        assert event.occurred_at == datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "its month, no more"
        assert set(contact) == set(ContactLogged.model_fields), "nothing else travels with it"
        [overtime] = await logged(notifier, "overtime.hours_logged")
        hours = OvertimeHoursLogged.model_validate(overtime)
        assert (hours.assignment_id, hours.agency, hours.hours) == (
            eligible.assignment_id,
            "kcmo",
            1.5,
        )
        assert str(event.contact_id) not in str(overtime) and str(
            eligible.assignment_id
        ) not in str(contact), "the two events share no id"

        [row] = await exchanges(notifier)
        assert row["state"] == "logged" and row["ended_at"] == notifier.clock.now()
        for column in ("phone", "step", "people", "kind", "referral", "form_token_hash"):
            assert row[column] is None, f"{column} cleared at the end"
        assert row["assignment_id"] == eligible.assignment_id, "kept, for idempotence"
        async with unit_of_work(notifier.sessions) as session:
            bodies = list(await session.scalars(text("SELECT body FROM notifier_pages")))
        assert token_of(opening) not in " ".join(bodies), "the link left the stored SMS"
        assert any(LINK_REMOVED in body for body in bodies)

        # Not eligible (kck, or an assignment the manager did not activate): no overtime.
        await notifier.publish(
            invitation(notifier, phone=OTHER_SPECIALIST_PHONE, overtime_eligible=False)
        )
        await texts_to(notifier, OTHER_SPECIALIST_PHONE, 1)
        for count, body in enumerate(("1", "m", "4", "0"), start=2):
            await answer(notifier, OTHER_SPECIALIST_PHONE, body)
            await texts_to(notifier, OTHER_SPECIALIST_PHONE, count)
        assert (await sent_to(notifier, OTHER_SPECIALIST_PHONE))[-1] == LOGGED_TEXT
        assert len(await logged(notifier, "contact.logged")) == 2
        assert len(await logged(notifier, "overtime.hours_logged")) == 1


async def test_unexpected_answers_get_the_question_help_are_kept_nowhere_and_are_rate_limited(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.publish(invitation(notifier))
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        await answer(notifier, SPECIALIST_PHONE, "2")
        await texts_to(notifier, SPECIALIST_PHONE, 2)

        confided = "He told me about his divorce"
        for body in (confided, "HELP", "3", "maybe both?"):
            assert await answer(notifier, SPECIALIST_PHONE, body) == []
        texts = await texts_to(notifier, SPECIALIST_PHONE, 5)
        assert texts[2:] == [help_text(Step.KIND)] * 3, "three help texts an hour, then none"
        await notifier.settle()
        assert len(await sent_to(notifier, SPECIALIST_PHONE)) == 5

        [row] = await exchanges(notifier)
        assert (row["step"], row["people"], row["kind"]) == ("kind", 2, None), "nothing kept"
        stored = []
        async with unit_of_work(notifier.sessions) as session:
            for table in ("notifier_pages", "notifier_contact_logs", "outbox_messages"):
                rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
                stored += [str(value) for found in rows for value in found]
        everything = " ".join(stored)
        assert "divorce" not in everything and "maybe" not in everything

        # A real answer is no automatic reply: it is answered past the limit.
        await answer(notifier, SPECIALIST_PHONE, "M")
        assert (await texts_to(notifier, SPECIALIST_PHONE, 6))[-1] == REFERRAL_QUESTION


async def test_zero_people_and_skip_log_nothing(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.publish(invitation(notifier))
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        await answer(notifier, SPECIALIST_PHONE, "0")
        assert (await texts_to(notifier, SPECIALIST_PHONE, 2))[-1] == NOTHING_LOGGED_TEXT

        await answer(notifier, SPECIALIST_PHONE, "LOG")
        await texts_to(notifier, SPECIALIST_PHONE, 3)
        await answer(notifier, SPECIALIST_PHONE, "4")
        await texts_to(notifier, SPECIALIST_PHONE, 4)
        await answer(notifier, SPECIALIST_PHONE, "Skip")
        assert (await texts_to(notifier, SPECIALIST_PHONE, 5))[-1] == SKIPPED_TEXT

        assert sorted(row["state"] for row in await exchanges(notifier)) == ["nothing", "skipped"]
        assert all(row["people"] is None for row in await exchanges(notifier))
        await notifier.settle()
        assert await logged(notifier, "contact.logged") == []
        assert await logged(notifier, "overtime.hours_logged") == []


async def test_a_redelivered_inbound_webhook_changes_nothing(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.publish(invitation(notifier))
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        for _ in range(2):
            await answer(notifier, SPECIALIST_PHONE, "3", message_sid="SMcontact1")
        await texts_to(notifier, SPECIALIST_PHONE, 2)
        await answer(notifier, SPECIALIST_PHONE, "m", message_sid="SMcontact2")
        await texts_to(notifier, SPECIALIST_PHONE, 3)
        await answer(notifier, SPECIALIST_PHONE, "m", message_sid="SMcontact2")
        await notifier.settle()
        assert await sent_to(notifier, SPECIALIST_PHONE) == [
            (await sent_to(notifier, SPECIALIST_PHONE))[0],
            KIND_QUESTION,
            REFERRAL_QUESTION,
        ]
        [row] = await exchanges(notifier)
        assert (row["step"], row["people"], row["kind"]) == ("referral", 3, "member")


async def test_a_newer_invitation_waits_for_the_open_exchange_and_expiry_asks_the_next(
    start_notifier: StartNotifier,
) -> None:
    tuning = replace(FAST, contact_log_sweep_interval_s=0.2)
    async with start_notifier(tuning=tuning) as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        first, second, third = (invitation(notifier) for _ in range(3))
        await notifier.publish(first)
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        for count, later in enumerate((second, third), start=2):
            notifier.clock.advance(60)  # created in order, at distinct times
            await notifier.publish(later)
            await eventually(partial(_count, notifier, count), what="the exchange")
        await notifier.settle()
        assert len(await sent_to(notifier, SPECIALIST_PHONE)) == 1, "one exchange at a time"
        assert [row["state"] for row in await exchanges(notifier)] == ["open", "waiting", "waiting"]

        await answer(notifier, SPECIALIST_PHONE, "SKIP")
        done, asked = (await texts_to(notifier, SPECIALIST_PHONE, 3))[1:]
        assert done == SKIPPED_TEXT
        assert asked.startswith("Peer support: your call-out has ended.")
        rows = await exchanges(notifier)
        assert [row["state"] for row in rows] == ["skipped", "open", "waiting"]
        assert rows[1]["assignment_id"] == second.assignment_id, "in the order they came"

        # Unanswered for 72 hours: the sweep ends it (nothing kept) and asks the next.
        await answer(notifier, SPECIALIST_PHONE, "2")
        await texts_to(notifier, SPECIALIST_PHONE, 4)
        notifier.clock.advance(timedelta(hours=72, seconds=1))
        asked_third = (await texts_to(notifier, SPECIALIST_PHONE, 5))[-1]
        assert token_of(asked_third) != token_of(asked)
        rows = await exchanges(notifier)
        assert [row["state"] for row in rows] == ["skipped", "expired", "open"]
        assert rows[1]["people"] is None and rows[1]["phone"] is None
        assert rows[2]["assignment_id"] == third.assignment_id
        await notifier.settle()
        assert await logged(notifier, "contact.logged") == []


async def test_a_message_after_the_expiry_is_not_taken_as_an_answer_to_the_next_question(
    start_notifier: StartNotifier,
) -> None:
    """Expiry is also checked when the phone texts (the sweep runs only every minute)."""
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        first, second = invitation(notifier), invitation(notifier)
        await notifier.publish(first)
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        notifier.clock.advance(60)
        await notifier.publish(second)
        await eventually(lambda: _count(notifier, 2), what="two exchanges")
        notifier.clock.advance(timedelta(hours=73))
        await answer(notifier, SPECIALIST_PHONE, "3")
        asked = (await texts_to(notifier, SPECIALIST_PHONE, 2))[-1]
        assert asked.startswith("Peer support: your call-out has ended.")
        rows = await exchanges(notifier)
        assert [(row["state"], row["people"]) for row in rows] == [
            ("expired", None),
            ("open", None),
        ], "the 3 answered neither the expired exchange nor the one just asked"


async def _count(notifier: Notifier, count: int) -> bool:
    return len(await exchanges(notifier)) == count


async def test_log_from_a_roster_phone_starts_a_direct_exchange_and_from_a_stranger_nothing(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        assert await answer(notifier, STRANGER_PHONE, "LOG") == []
        assert await answer(notifier, SPECIALIST_PHONE, " log ") == []
        [opening] = await texts_to(notifier, SPECIALIST_PHONE, 1)
        assert opening.startswith("Peer support: log a contact, anonymously.")
        token_of(opening)
        for count, body in enumerate(("1", "M", "1", "0.5"), start=2):
            await answer(notifier, SPECIALIST_PHONE, body)
            await texts_to(notifier, SPECIALIST_PHONE, count)
        assert (await sent_to(notifier, SPECIALIST_PHONE))[-1] == LOGGED_TEXT
        [contact] = await logged(notifier, "contact.logged")
        assert (contact["source"], contact["people"], contact["hours"]) == ("direct", 1, 0.5)
        await notifier.settle()
        assert await logged(notifier, "overtime.hours_logged") == [], "a direct call: no overtime"
        assert await sent_to(notifier, STRANGER_PHONE) == []
        [row] = await exchanges(notifier)
        assert (row["source"], row["assignment_id"], row["state"]) == ("direct", None, "logged")


async def test_the_form_completes_the_exchange_once_and_its_token_expires_with_it(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        eligible = invitation(notifier)
        await notifier.publish(eligible)
        token = token_of((await texts_to(notifier, SPECIALIST_PHONE, 1))[0])
        await answer(notifier, SPECIALIST_PHONE, "2")  # started by SMS, finished by the form
        await texts_to(notifier, SPECIALIST_PHONE, 2)
        answers = ContactAnswers(people=4, kind="member", referral="other", hours=2.25)
        now = notifier.clock.now()

        async def complete(token: str) -> bool:
            async with unit_of_work(notifier.sessions) as session:
                done = await complete_by_form(
                    session,
                    topics=notifier.topics,
                    registry=REGISTRY,
                    settings=notifier.settings,
                    token=token,
                    answers=answers,
                    now=notifier.clock.now(),
                )
                await session.commit()
                return done

        async def form(token: str) -> FormExchange | None:
            async with unit_of_work(notifier.sessions) as session:
                return await exchange_for_form(session, token, notifier.clock.now())

        assert await form(token) == FormExchange("incident", now + timedelta(hours=72))
        assert await form("x" * 43) is None and await form("not a token") is None
        assert await complete(token)
        assert await form(token) is None, "one use"
        assert not await complete(token)
        [contact] = await logged(notifier, "contact.logged")
        assert (contact["people"], contact["kind"], contact["referral"], contact["hours"]) == (
            4,
            "member",
            "other",
            2.25,
        )
        [overtime] = await logged(notifier, "overtime.hours_logged")
        assert overtime["assignment_id"] == str(eligible.assignment_id)
        assert await answer(notifier, SPECIALIST_PHONE, "M") == [HELP_TEXT], "it has ended"
        await notifier.settle()
        assert len(await sent_to(notifier, SPECIALIST_PHONE)) == 2, "and asks nothing more"

        # A token expires with its exchange, and "nothing to log" is one use too.
        notifier.clock.advance(60)
        await notifier.publish(invitation(notifier))
        late = token_of((await texts_to(notifier, SPECIALIST_PHONE, 3))[-1])
        notifier.clock.advance(60)
        await notifier.publish(invitation(notifier))
        await eventually(lambda: _count(notifier, 3), what="a waiting exchange")
        notifier.clock.advance(timedelta(hours=72))
        assert await form(late) is None
        assert not await complete(late)
        skipped = token_of((await texts_to(notifier, SPECIALIST_PHONE, 4))[-1])
        async with unit_of_work(notifier.sessions) as session:
            assert await skip_by_form(
                session, settings=notifier.settings, token=skipped, now=notifier.clock.now()
            )
            await session.commit()
        assert [row["state"] for row in await exchanges(notifier)] == [
            "logged",
            "expired",
            "skipped",
        ]
        assert len(await logged(notifier, "contact.logged")) == 1


async def test_a_page_answer_wins_over_an_open_exchange(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.publish(invitation(notifier))
        await texts_to(notifier, SPECIALIST_PHONE, 1)
        page = await notifier.request_page()
        page_text = (await texts_to(notifier, SPECIALIST_PHONE, 2))[-1]
        found = re.search(r"Reply YES (\d{4}) to accept", page_text)
        assert found
        code = found.group(1)
        await notifier.wait_outcome(page, "sent")

        # Digits are the exchange's: the page asks for its code.
        assert await answer(notifier, SPECIALIST_PHONE, "2") == []
        assert (await texts_to(notifier, SPECIALIST_PHONE, 3))[-1] == KIND_QUESTION
        said = await answer(notifier, SPECIALIST_PHONE, f"YES {code}")
        assert said and f"you accepted page {code}" in said[0]
        await notifier.wait_outcome(page, "accepted")
        [row] = await exchanges(notifier)
        assert (row["state"], row["step"], row["people"]) == ("open", "kind", 2), "untouched"

        # A bare YES/NO word answers a waiting page before the exchange.
        second = await notifier.request_page()
        await notifier.wait_outcome(second, "sent")
        said = await answer(notifier, SPECIALIST_PHONE, "no")
        assert said and "you declined page" in said[0]
        await notifier.wait_outcome(second, "declined")
        # With no page waiting, the exchange takes it (and it is no answer to its question).
        assert await answer(notifier, SPECIALIST_PHONE, "yes") == []
        assert (await texts_to(notifier, SPECIALIST_PHONE, 5))[-1] == help_text(Step.KIND)


async def test_without_twilio_the_exchange_runs_on_the_test_phones(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier(twilio=False) as notifier:
        await notifier.add_specialist(SPECIALIST_PHONE)
        await notifier.publish(invitation(notifier))

        async def told(count: int) -> list[str] | None:
            found = [event.text for _, event in await kept_unsent(notifier)]
            return found if len(found) >= count else None

        [opening] = await eventually(lambda: told(1), what="the opening kept unsent")
        [(_, event)] = await kept_unsent(notifier)
        assert (event.kind, event.channel, event.incident_id, event.assignment_id) == (
            "contact",
            "sms",
            None,
            None,
        )
        assert token_of(opening)

        def as_test_phone(body: str) -> Awaitable[str | None]:
            return answer_as_test_phone(
                phone=SPECIALIST_PHONE,
                body=body,
                sessions=notifier.sessions,
                topics=notifier.topics,
                clock=notifier.clock,
                setup=ExchangeSetup.of(notifier.settings, REGISTRY),
            )

        assert await as_test_phone("5") is None
        assert (await eventually(lambda: told(2), what="the next question"))[-1] == KIND_QUESTION


async def test_a_run_of_invitations_with_pages_is_one_transaction_with_one_exchange_each(
    engine: AsyncEngine, settings: Settings, clock: ManualClock
) -> None:
    handler = PageCommandHandler(
        sessions=build_session_factory(engine), clock=clock, settings=settings, rng=random.Random(3)
    )
    now = clock.now()

    def invited(phone: str) -> ContactLogInvited:
        return ContactLogInvited(
            occurred_at=now,
            assignment_id=uuid.uuid4(),
            incident_id=uuid.uuid4(),
            agency="kcmo",
            member_id="M-" + phone[-3:],
            phone=phone,
            accepted_at=now - timedelta(hours=1),
            ended_at=now,
            overtime_eligible=False,
        )

    page = PageRequested(
        occurred_at=now,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        member_id="M-111",
        phone=SPECIALIST_PHONE,
        channel="sms",
        facts=KCMO_FACTS,
        remind_supervisor=False,
        answer_by=now + timedelta(minutes=5),
    )
    first, second, other = (
        invited(SPECIALIST_PHONE),
        invited(SPECIALIST_PHONE),
        invited(OTHER_SPECIALIST_PHONE),
    )
    run = [first, page, first, second, other]
    await handler.handle_batch(run)  # type: ignore[arg-type]
    await handler.handle_batch(run)  # type: ignore[arg-type]  # redelivered: nothing more
    async with unit_of_work(build_session_factory(engine)) as session:
        states = (
            await session.execute(
                text("SELECT assignment_id, state, xmin::text AS tx FROM notifier_contact_logs")
            )
        ).all()
        kinds = list(
            await session.scalars(text("SELECT kind FROM notifier_pages ORDER BY kind, phone"))
        )
    by_assignment = {row.assignment_id: row.state for row in states}
    assert by_assignment == {
        first.assignment_id: "open",
        second.assignment_id: "waiting",
        other.assignment_id: "open",
    }
    assert len({row.tx for row in states}) == 1, "one transaction"
    assert kinds == ["contact", "contact", "page"]
