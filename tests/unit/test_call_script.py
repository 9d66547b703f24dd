"""The voice call: what it says, the TwiML that gathers one key, and what the key means."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from services.notifier.call_script import (
    INSTRUCTIONS,
    Keypress,
    call_say_text,
    call_twiml,
    closing_twiml,
    keypress_answer,
    spoken_place_words,
    spoken_time_words,
)
from services.notifier.page_text import (
    CONFIDENTIALITY_REMINDER,
    SUPERVISOR_REMINDER,
    PageIncident,
    PageLocation,
)

ACTION_URL = "https://pst.example.org/v1/twilio/voice?assignment=a1&step=gather"


def incident(location: PageLocation | None = None) -> PageIncident:
    return PageIncident(
        agency="kck",
        occurred_at=datetime(2026, 11, 21, 4, 14, tzinfo=UTC),
        time_zone="America/Chicago",
        event="use_of_force",
        location=location,
    )


def parse(twiml: str) -> ET.Element:
    return ET.fromstring(twiml)  # noqa: S314 - our own TwiML, not untrusted input


def test_the_script_says_time_place_event_and_the_keys() -> None:
    words = call_say_text(
        incident(PageLocation(39.1, -94.6, "701 N 7th St, Kansas City, KS")),
        remind_supervisor=False,
    )
    assert words == (
        "Peer support team page from kck. Use of force at 701 N 7th St, Kansas City, KS,"
        " Friday, November 20, at 10:14 PM. " + CONFIDENTIALITY_REMINDER + " " + INSTRUCTIONS
    )
    assert "Press 1 to accept, 2 to decline, star to repeat." in words


def test_the_script_reminds_of_the_supervisor_when_asked() -> None:
    assert SUPERVISOR_REMINDER in call_say_text(incident(), remind_supervisor=True)
    assert SUPERVISOR_REMINDER not in call_say_text(incident(), remind_supervisor=False)


@pytest.mark.parametrize(
    ("hour_utc", "spoken"),
    [(6, "at 12:14 AM"), (17, "at 11:14 AM"), (18, "at 12:14 PM"), (4, "at 10:14 PM")],
)
def test_spoken_time_uses_a_twelve_hour_clock(hour_utc: int, spoken: str) -> None:
    page = PageIncident(
        agency="kck",
        occurred_at=datetime(2026, 11, 21, hour_utc, 14, tzinfo=UTC),
        time_zone="America/Chicago",
        event="other",
    )
    assert spoken_time_words(page).endswith(spoken)


def test_spoken_place_falls_back_to_coordinates_then_to_not_given() -> None:
    assert spoken_place_words(incident(PageLocation(39.0997265, -94.5785667))) == (
        "at coordinates 39.0997, -94.5786"
    )
    assert spoken_place_words(incident()) == "at a location not given"


def test_the_twiml_gathers_one_key_posted_to_the_action_url() -> None:
    root = parse(call_twiml(incident(), action_url=ACTION_URL, remind_supervisor=False))
    assert root.tag == "Response"
    gathers = root.findall("Gather")
    assert len(gathers) == 2
    for gather in gathers:
        assert gather.get("numDigits") == "1"
        assert gather.get("action") == ACTION_URL
        assert gather.get("method") == "POST"
        say = gather.find("Say")
        assert say is not None
        assert say.text == call_say_text(incident(), remind_supervisor=False)
    assert [child.tag for child in root] == ["Gather", "Gather", "Say", "Hangup"]


def test_the_twiml_is_a_pure_function_of_its_inputs() -> None:
    first = call_twiml(incident(), action_url=ACTION_URL, remind_supervisor=True)
    assert first == call_twiml(incident(), action_url=ACTION_URL, remind_supervisor=True)


def test_an_action_url_is_required() -> None:
    with pytest.raises(ValueError, match="action URL"):
        call_twiml(incident(), action_url="", remind_supervisor=False)


@pytest.mark.parametrize(
    ("digits", "answer"),
    [
        ("1", Keypress.ACCEPT),
        ("2", Keypress.DECLINE),
        ("*", Keypress.REPEAT),
        (" 1 ", Keypress.ACCEPT),
        ("", Keypress.UNRECOGNISED),
        ("#", Keypress.UNRECOGNISED),
        ("9", Keypress.UNRECOGNISED),
        ("12", Keypress.UNRECOGNISED),
    ],
)
def test_keypresses(digits: str, answer: Keypress) -> None:
    assert keypress_answer(digits) is answer


def test_closing_twiml_says_the_words_and_hangs_up() -> None:
    root = parse(closing_twiml("Thank you. You are assigned."))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == "Thank you. You are assigned."
