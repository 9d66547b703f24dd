"""The stood-down notice and what the console's test phones are told: the page's facts, no code,
nothing to answer, two GSM-7 segments at most; and the words a call's TwiML says."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from services.notifier.call_script import (
    NO_ANSWER_WORDS,
    call_say_text,
    call_twiml,
    closing_twiml,
)
from services.notifier.page_text import (
    STOOD_DOWN_WORDS,
    PageIncident,
    PageLocation,
    gsm7_septets,
    plain_gsm_text,
    sms_segments,
    stood_down_text,
)
from services.notifier.sender import kept_unsent_event
from services.notifier.test_phones import new_message_sid, spoken_words
from tests.harness.sending_rows import NOW, SENDING

# Friday 20 November 2026, 22:14 in Kansas City (CST, UTC-6).
OCCURRED = datetime(2026, 11, 21, 4, 14, tzinfo=UTC)
GRAND = PageLocation(39.0997, -94.5786, "1200 Grand Blvd, Kansas City, MO")


def incident(location: PageLocation | None = GRAND, **changes: object) -> PageIncident:
    base = PageIncident(
        agency="kcmo",
        occurred_at=OCCURRED,
        time_zone="America/Chicago",
        event="officer_involved_shooting",
        location=location,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_notice_says_event_place_and_local_time_and_asks_for_no_answer() -> None:
    assert stood_down_text(incident()) == (
        "PST (kcmo): the team for the officer-involved shooting at 1200 Grand Blvd,"
        " Kansas City, MO, Fri 20 Nov 22:14, is stood down. You are no longer needed;"
        " no reply needed. Thank you."
    )


def test_the_notice_carries_no_code_and_no_reply_words() -> None:
    text = stood_down_text(incident(PageLocation(39.0997, -94.5786, "Grand Blvd")))
    assert not re.search(r"\b[0-9]{4}\b", text), "no page code"
    assert "YES" not in text and "Reply" not in text


def test_without_an_address_or_location_the_notice_says_where_as_the_page_does() -> None:
    assert " at 39.0997,-94.5786, Fri 20 Nov 22:14, " in stood_down_text(
        incident(PageLocation(39.0997, -94.5786))
    )
    assert "shooting (location not given), Fri 20 Nov 22:14, is stood down." in stood_down_text(
        incident(None)
    )


@given(
    address=st.text(max_size=600),
    agency=st.text(max_size=80),
    event=st.text(max_size=80),
)
@example(address="\u20ac" * 600, agency="kcmo", event="other")
@example(address="{" * 600, agency="{" * 80, event="}" * 80)
def test_any_notice_fits_two_gsm7_segments_and_ends_with_its_words(
    address: str, agency: str, event: str
) -> None:
    text = stood_down_text(
        incident(PageLocation(-33.8688, 151.2093, address), agency=agency, event=event)
    )
    assert gsm7_septets(text) is not None
    assert 1 <= sms_segments(text) <= 2
    assert text.endswith(f", Fri 20 Nov 22:14, is stood down. {STOOD_DOWN_WORDS}")
    plain_address = plain_gsm_text(address).rstrip(" ,")
    if plain_address:
        assert f" at {plain_address[:20].rstrip(' ,')}" in text
    else:
        assert " at -33.8688,151.2093, " in text


def test_a_row_kept_unsent_is_told_with_its_text_and_code() -> None:
    row = dataclasses.replace(SENDING, state="queued", body="the page's text")
    event = kept_unsent_event(row, code="4821", at=NOW)
    assert event.event_type == "message.kept_unsent"
    assert (event.page_id, event.kind, event.channel, event.agency) == (
        row.id,
        "page",
        "sms",
        "kcmo",
    )
    assert (event.incident_id, event.assignment_id, event.phone) == (
        row.incident_id,
        row.assignment_id,
        row.phone,
    )
    assert (event.code, event.text, event.occurred_at) == ("4821", "the page's text", NOW)

    alert = dataclasses.replace(row, kind="alert", assignment_id=None, incident_id=None)
    told = kept_unsent_event(alert, code=None, at=NOW)
    assert (told.kind, told.assignment_id, told.incident_id, told.code) == (
        "alert",
        None,
        None,
        None,
    )


def test_a_call_kept_unsent_is_told_with_the_words_it_would_say() -> None:
    words = call_say_text(incident(), remind_supervisor=False)
    row = dataclasses.replace(SENDING, channel="call", state="queued", body=words)
    event = kept_unsent_event(row, code="4821", at=NOW)
    assert (event.channel, event.text) == ("call", words)


def test_the_words_a_call_says_are_read_from_its_twiml() -> None:
    script = call_say_text(incident(), remind_supervisor=True)
    assert spoken_words(call_twiml(incident(), action_url="x", remind_supervisor=True)) == [
        script,
        script,
        NO_ANSWER_WORDS,
    ]
    assert spoken_words(closing_twiml("Thank you. Goodbye.")) == ["Thank you. Goodbye."]


def test_each_test_phone_message_has_a_fresh_id_apart_from_twilios() -> None:
    first, second = new_message_sid(), new_message_sid()
    assert first != second
    assert first.startswith("console-") and not first.startswith("SM")
    assert uuid.UUID(hex=first.removeprefix("console-"))
    assert len(first) <= 100, "it is claimed as a processed event's id"
