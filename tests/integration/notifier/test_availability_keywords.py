"""Availability keywords by SMS (issue 14), through the running notifier, Twilio's signed
webhook and the roster's own table: `OFF`, `ON`, `OFF 8H` and `STATUS` from a confirmed phone
change the entry as they say and say it on the agency's clock; an unconfirmed number changes
nothing; the automatic replies' loop limit holds; page answers and the contact-log exchange's
answers keep their precedence; the console's test phones use them when Twilio is not set."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.notifier.availability_keywords import CONFIRM_FIRST_TEXT, FORMS_TEXT
from services.notifier.contact_log_questions import KIND_QUESTION
from services.notifier.phone_confirmations import CONFIRMED_TEXT
from services.notifier.sms_reply import HELP_TEXT
from shared.db.unit_of_work import unit_of_work
from shared.events import ContactLogInvited
from tests.harness.waiting import eventually
from tests.integration.notifier.conftest import (
    OTHER_SPECIALIST_PHONE,
    SPECIALIST_PHONE,
    STRANGER_PHONE,
    Notifier,
    StartNotifier,
)
from tests.integration.notifier.roster_phones import (
    as_test_phone,
    code_in,
    entry_of,
    load_roster,
    member_of,
    specialist,
    texted,
)
from tests.integration.notifier.test_notices_and_test_phones import kept_unsent

TUESDAY_9AM = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
"""09:00 on Tuesday 8 December in Kansas City."""
HOUR = timedelta(hours=1)
STILL_PAGED = "You can still be paged, but later than when on call."
CONFIRMED = frozenset({member_of(SPECIALIST_PHONE)})


async def confirmed_specialist(notifier: Notifier, **changes: object) -> None:
    notifier.clock.set(TUESDAY_9AM)
    await load_roster(notifier, specialist(SPECIALIST_PHONE, **changes), confirmed=CONFIRMED)


async def call_state(notifier: Notifier) -> tuple[bool, datetime | None]:
    entry = await entry_of(notifier, SPECIALIST_PHONE)
    return entry.on_call, entry.off_call_until


async def test_off_on_and_off_for_a_while_change_the_entry_and_say_so(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier)
        await notifier.settle()
        assert notifier.twilio.messages == [], "a confirmed phone is sent no code"

        assert await texted(notifier, SPECIALIST_PHONE, " off ") == [
            f"PST: you are off call. {STILL_PAGED} ON to return."
        ]
        assert await call_state(notifier) == (False, None)
        notifier.clock.advance(HOUR)  # 10:00; each step an hour on, clear of the loop limit

        assert await texted(notifier, SPECIALIST_PHONE, "On") == ["PST: you are on call."]
        assert await call_state(notifier) == (True, None)
        notifier.clock.advance(HOUR)  # 11:00

        assert await texted(notifier, SPECIALIST_PHONE, "OFF 8H") == [
            f"PST: you are off call until 19:00. {STILL_PAGED} ON to return sooner."
        ]
        eight_hours_on = notifier.clock.now() + timedelta(hours=8)
        assert await call_state(notifier) == (True, eight_hours_on), "standing on_call kept"
        notifier.clock.advance(HOUR)  # 12:00

        assert await texted(notifier, SPECIALIST_PHONE, "status") == [
            "PST: status active; off call until 19:00; training current until 31 Mar 2027;"
            " phone confirmed; no open pages."
        ]
        notifier.clock.advance(HOUR)  # 13:00

        assert await texted(notifier, SPECIALIST_PHONE, "OFF 2D") == [
            f"PST: you are off call until Thu 10 Dec 13:00. {STILL_PAGED} ON to return sooner."
        ]
        assert await call_state(notifier) == (True, notifier.clock.now() + timedelta(days=2))
        notifier.clock.advance(HOUR)  # 14:00

        assert await texted(notifier, SPECIALIST_PHONE, "OFF") == [
            f"PST: you are off call. {STILL_PAGED} ON to return."
        ]
        assert await call_state(notifier) == (False, None)
        notifier.clock.advance(HOUR)  # 15:00

        assert await texted(notifier, SPECIALIST_PHONE, "OFF 30 min") == [
            f"PST: you are off call, after 15:30 too: you were off call already. {STILL_PAGED}"
            " ON to return."
        ]
        assert await call_state(notifier) == (False, notifier.clock.now() + timedelta(minutes=30))
        notifier.clock.advance(HOUR)  # 16:00: the half hour is over, still off call

        assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [
            "PST: status active; off call; training current until 31 Mar 2027;"
            " phone confirmed; no open pages."
        ]
        assert await notifier.outcomes() == []


async def test_on_says_when_the_member_is_not_paged_at_all(start_notifier: StartNotifier) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier, status="inactive", on_call=False)
        assert await texted(notifier, SPECIALIST_PHONE, "ON") == [
            "PST: you are on call. But you are not paged while inactive."
        ]
        assert await call_state(notifier) == (True, None)
        notifier.clock.advance(timedelta(days=120))  # past 31 March: training has lapsed
        assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [
            "PST: status inactive; on call; training lapsed; phone confirmed; no open pages."
        ]


async def test_an_unconfirmed_number_is_told_to_confirm_first_and_nothing_changes(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        notifier.clock.set(TUESDAY_9AM)
        await load_roster(notifier, specialist(SPECIALIST_PHONE))
        for keyword in ("OFF", "OFF 8H", "STATUS"):
            assert await texted(notifier, SPECIALIST_PHONE, keyword) == [CONFIRM_FIRST_TEXT]
        assert await call_state(notifier) == (True, None)
        # Those were its three automatic replies this hour.
        assert await texted(notifier, SPECIALIST_PHONE, "ON") == []
        assert await texted(notifier, STRANGER_PHONE, "OFF") == [], "a number on no roster"
        assert await call_state(notifier) == (True, None)


async def test_the_loop_limit_holds_and_a_change_is_made_even_unanswered(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier)
        status = (
            "PST: status active; on call; training current until 31 Mar 2027;"
            " phone confirmed; no open pages."
        )
        for _ in range(3):
            assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [status]
            notifier.clock.advance(timedelta(minutes=1))
        for _ in range(20):  # a robot that asks forever
            assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == []
        assert await texted(notifier, SPECIALIST_PHONE, "OFF") == []
        assert await call_state(notifier) == (False, None), "made, though not answered"
        assert await texted(notifier, SPECIALIST_PHONE, "what?") == [], "the help counts too"
        async with unit_of_work(notifier.sessions) as session:
            kinds = (
                await session.scalars(text("SELECT kind FROM notifier_auto_replies ORDER BY id"))
            ).all()
        assert kinds == ["availability"] * 3

        notifier.clock.advance(HOUR)
        assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [
            status.replace("on call", "off call")
        ]


async def test_bad_forms_are_told_the_forms_and_change_nothing(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier)
        assert await texted(notifier, SPECIALIST_PHONE, "OFF 9D") == [FORMS_TEXT]
        assert await texted(notifier, SPECIALIST_PHONE, "OFF 0H") == [FORMS_TEXT]
        assert await texted(notifier, SPECIALIST_PHONE, "OFFICE") == [HELP_TEXT]
        assert await call_state(notifier) == (True, None)


async def test_keywords_do_not_take_page_answers_and_status_counts_open_pages(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier)
        first = await notifier.request_page(phone=SPECIALIST_PHONE)
        second = await notifier.request_page(phone=SPECIALIST_PHONE)
        await notifier.wait_state(first, "sent")
        await notifier.wait_state(second, "sent")
        assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [
            "PST: status active; on call; training current until 31 Mar 2027;"
            " phone confirmed; 2 open pages."
        ]
        assert await texted(notifier, SPECIALIST_PHONE, "OFF") == [
            f"PST: you are off call. {STILL_PAGED} ON to return."
        ]
        assert await notifier.outcome_names(first) == ["sent"]
        code = (await notifier.page_row(first)).code  # type: ignore[union-attr]
        [accepted] = await texted(notifier, SPECIALIST_PHONE, f"YES {code}")
        assert accepted.startswith(f"Thank you: you accepted page {code}.")
        [declined] = await texted(notifier, SPECIALIST_PHONE, "NO")
        assert declined.startswith("Thank you: you declined page")
        await notifier.wait_outcome(first, "accepted")
        await notifier.wait_outcome(second, "declined")
        notifier.clock.advance(HOUR)
        assert await texted(notifier, SPECIALIST_PHONE, "STATUS") == [
            "PST: status active; off call; training current until 31 Mar 2027;"
            " phone confirmed; no open pages."
        ]


async def test_keywords_pass_an_open_exchange_that_does_not_take_them(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier() as notifier:
        await confirmed_specialist(notifier)
        now = notifier.clock.now()
        await notifier.publish(
            ContactLogInvited(
                occurred_at=now,
                assignment_id=uuid.uuid4(),
                incident_id=uuid.uuid4(),
                agency="kcmo",
                member_id=member_of(SPECIALIST_PHONE),
                phone=SPECIALIST_PHONE,
                accepted_at=now - timedelta(hours=3),
                ended_at=now,
                overtime_eligible=False,
            )
        )
        await notifier.wait_messages(1, to=SPECIALIST_PHONE)
        assert await texted(notifier, SPECIALIST_PHONE, "OFF 8H") == [
            f"PST: you are off call until 17:00. {STILL_PAGED} ON to return sooner."
        ]
        assert await texted(notifier, SPECIALIST_PHONE, "3") == [], "the exchange's answer"
        [_, question] = await notifier.wait_messages(2, to=SPECIALIST_PHONE)
        assert question.form["Body"] == KIND_QUESTION
        assert await call_state(notifier) == (True, notifier.clock.now() + timedelta(hours=8))


async def test_without_twilio_a_test_phone_confirms_its_code_and_uses_the_keywords(
    start_notifier: StartNotifier,
) -> None:
    async with start_notifier(twilio=False) as notifier:
        notifier.clock.set(TUESDAY_9AM)
        await load_roster(
            notifier,
            specialist(SPECIALIST_PHONE),
            specialist(OTHER_SPECIALIST_PHONE),
            confirmed=frozenset({member_of(OTHER_SPECIALIST_PHONE)}),
        )
        assert await as_test_phone(notifier, SPECIALIST_PHONE, "OFF") == CONFIRM_FIRST_TEXT

        async def code_told() -> str | None:
            texts = [event.text for _, event in await kept_unsent(notifier)]
            return code_in(texts[0]) if texts else None

        code = await eventually(code_told, what="the code kept unsent")
        assert await as_test_phone(notifier, SPECIALIST_PHONE, code) == CONFIRMED_TEXT
        assert await as_test_phone(notifier, SPECIALIST_PHONE, "OFF 30M") == (
            f"PST: you are off call until 09:30. {STILL_PAGED} ON to return sooner."
        )
        assert await call_state(notifier) == (True, notifier.clock.now() + timedelta(minutes=30))
        notifier.clock.advance(HOUR)
        assert await as_test_phone(notifier, SPECIALIST_PHONE, "STATUS") == (
            "PST: status active; on call; no training on record; phone confirmed; no open pages."
        )
        assert await as_test_phone(notifier, OTHER_SPECIALIST_PHONE, "ON") == (
            "PST: you are on call."
        )
