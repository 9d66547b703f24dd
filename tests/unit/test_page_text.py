"""The SMS page (§6.7): what it says, what it can never say, and that it fits two GSM-7 segments."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.notifier.page_text import (
    CONFIDENTIALITY_REMINDER,
    EVENT_WORDS,
    SUPERVISOR_REMINDER,
    PageIncident,
    PageLocation,
    event_words,
    gsm7_septets,
    page_text,
    plain_gsm_text,
    short_time_words,
    sms_segments,
)

CONTRACT_EVENTS = [
    "officer_involved_shooting",
    "use_of_force",
    "vehicle_collision",
    "vehicle_pursuit",
    "line_of_duty_death",
    "member_illness",
    "member_injury",
    "family_death",
    "tactical_deployment",
    "natural_disaster",
    "other",
]

# Friday 20 November 2026, 22:14 in Kansas City (CST, UTC-6).
OCCURRED = datetime(2026, 11, 21, 4, 14, tzinfo=UTC)


def incident(location: PageLocation | None = None, **changes: object) -> PageIncident:
    base = PageIncident(
        agency="kcmo",
        occurred_at=OCCURRED,
        time_zone="America/Chicago",
        event="officer_involved_shooting",
        location=location,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


LOCUST = PageLocation(39.0997265, -94.5785667, "1125 Locust St, Kansas City, MO")


def test_the_page_names_time_place_event_code_and_reply_words() -> None:
    text = page_text(incident(LOCUST), code="4821", remind_supervisor=False)
    assert text == (
        "Peer support page (kcmo): officer-involved shooting at 1125 Locust St, Kansas City, MO,"
        " Fri 20 Nov 22:14. Reply YES 4821 to accept, NO 4821 to decline."
        " Confidentiality has limits: never promise it."
    )
    assert sms_segments(text) == 2


def test_kcmo_pages_remind_the_specialist_to_tell_the_supervisor() -> None:
    reminded = page_text(incident(LOCUST), code="4821", remind_supervisor=True)
    plain = page_text(incident(LOCUST), code="4821", remind_supervisor=False)
    assert SUPERVISOR_REMINDER in reminded
    assert "supervisor" not in plain


@pytest.mark.parametrize("remind_supervisor", [False, True])
def test_every_page_reminds_that_confidentiality_has_limits(remind_supervisor: bool) -> None:
    text = page_text(incident(), code="1357", remind_supervisor=remind_supervisor)
    assert CONFIDENTIALITY_REMINDER in text
    assert "confidential" in text.lower()


def test_the_time_is_the_agencys_local_time() -> None:
    assert short_time_words(incident()) == "Fri 20 Nov 22:14"
    summer = incident(occurred_at=datetime(2026, 7, 4, 1, 5, tzinfo=UTC))  # CDT, UTC-5
    assert short_time_words(summer) == "Fri 3 Jul 20:05"
    assert "Fri 3 Jul 20:05" in page_text(summer, code="4821", remind_supervisor=False)


def test_without_an_address_the_place_is_the_coordinates_to_four_decimals() -> None:
    location = PageLocation(39.0997265, -94.5785667)
    text = page_text(incident(location), code="4821", remind_supervisor=False)
    assert "at 39.0997,-94.5786," in text


def test_a_blank_address_falls_back_to_the_coordinates() -> None:
    location = PageLocation(39.0997265, -94.5785667, "  \u200b ")
    assert "at 39.0997,-94.5786," in page_text(
        incident(location), code="4821", remind_supervisor=False
    )


def test_without_a_location_the_page_says_so() -> None:
    text = page_text(incident(None), code="4821", remind_supervisor=False)
    assert "(location not given)" in text


@pytest.mark.parametrize("event", CONTRACT_EVENTS)
def test_every_contract_event_has_short_plain_words(event: str) -> None:
    words = event_words(event)
    assert words == EVENT_WORDS[event]
    assert "_" not in words
    assert words in page_text(incident(event=event), code="4821", remind_supervisor=False)


def test_an_unknown_event_is_still_readable() -> None:
    assert event_words("search_and_rescue") == "search and rescue"
    assert event_words("\u2603") == "critical incident"


def test_an_overlong_agency_or_event_is_cut_so_the_address_keeps_its_room() -> None:
    assert event_words("x" * 100) == "x" * 32
    assert event_words("{" * 100) == "{" * 16
    text = page_text(incident(agency="a" * 100), code="4821", remind_supervisor=False)
    assert text.startswith(f"Peer support page ({'a' * 12}): ")


def test_the_page_cannot_carry_names_or_the_summary() -> None:
    assert {f.name for f in dataclasses.fields(PageIncident)} == {
        "agency",
        "occurred_at",
        "time_zone",
        "event",
        "location",
    }
    assert {f.name for f in dataclasses.fields(PageLocation)} == {"lat", "lon", "address"}
    with pytest.raises(TypeError):
        PageIncident(  # type: ignore[call-arg]
            agency="kcmo",
            occurred_at=OCCURRED,
            time_zone="America/Chicago",
            event="other",
            summary="Officer J. Doe shot",
        )
    with pytest.raises(TypeError):
        PageIncident(  # type: ignore[call-arg]
            agency="kcmo",
            occurred_at=OCCURRED,
            time_zone="America/Chicago",
            event="other",
            persons=[{"name": "J. Doe"}],
        )


def test_a_very_long_address_with_non_gsm_characters_is_shortened_to_two_segments() -> None:
    address = (
        "1125 Locust St \u2014 \u201crear lot\u201d, Caf\u00e9 S\u00e3o Paulo \U0001f694 " * 20
    )
    text = page_text(
        incident(PageLocation(39.1, -94.6, address)), code="4821", remind_supervisor=True
    )
    assert gsm7_septets(text) is not None
    assert sms_segments(text) == 2
    assert 'at 1125 Locust St - "rear lot", Cafe Sao Paulo 1125' in text
    assert "..." in text
    assert "Reply YES 4821 to accept, NO 4821 to decline." in text
    assert SUPERVISOR_REMINDER in text
    assert text.endswith(CONFIDENTIALITY_REMINDER)


def test_extension_characters_in_the_address_are_counted_as_two() -> None:
    address = "[Gate 3] {rear} ~ " * 30
    text = page_text(
        incident(PageLocation(39.1, -94.6, address)), code="4821", remind_supervisor=True
    )
    assert sms_segments(text) <= 2
    assert (gsm7_septets(text) or 0) > len(text)


@given(
    address=st.text(max_size=600),
    agency=st.text(max_size=80),
    event=st.sampled_from(CONTRACT_EVENTS) | st.text(max_size=80),
    code=st.from_regex(r"[0-9]{4}", fullmatch=True),
    remind_supervisor=st.booleans(),
)
@example(address="\u20ac" * 600, agency="kcmo", event="other", code="4821", remind_supervisor=True)
@example(address="{" * 600, agency="{" * 80, event="}" * 80, code="0000", remind_supervisor=True)
def test_any_page_fits_two_gsm7_segments_and_keeps_code_and_reply_words(
    address: str, agency: str, event: str, code: str, remind_supervisor: bool
) -> None:
    page = incident(PageLocation(-33.8688, 151.2093, address), agency=agency, event=event)
    text = page_text(page, code=code, remind_supervisor=remind_supervisor)
    assert gsm7_septets(text) is not None
    assert 1 <= sms_segments(text) <= 2
    assert f"Reply YES {code} to accept, NO {code} to decline." in text
    assert text.endswith(CONFIDENTIALITY_REMINDER)
    assert ", Fri 20 Nov 22:14. " in text
    plain_address = plain_gsm_text(address).rstrip(" ,")
    if plain_address:
        assert f" at {plain_address[:20].rstrip(' ,')}" in text
    else:
        assert " at -33.8688,151.2093, " in text


@pytest.mark.parametrize("code", ["482", "48210", "abcd", "", "\u0664\u0668\u0662\u0661"])
def test_a_page_code_must_be_four_ascii_digits(code: str) -> None:
    with pytest.raises(ValueError, match="four digits"):
        page_text(incident(), code=code, remind_supervisor=False)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        incident(occurred_at=datetime(2026, 11, 20, 22, 14))


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, -181.0), (float("nan"), 0.0)])
def test_impossible_coordinates_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="from"):
        PageLocation(lat, lon)


# GSM-7 arithmetic


def test_septets_of_basic_and_extension_characters() -> None:
    assert gsm7_septets("") == 0
    assert gsm7_septets("Hello @ 12:00") == 13
    assert gsm7_septets("\u00e9\u00c9\u00e8\u00f1\u00dc\u00a3") == 6  # basic-set accents
    assert gsm7_septets("{}[]~^|\\\u20ac") == 18
    assert gsm7_septets("\f") == 2


@pytest.mark.parametrize(
    "text", ["\u201cquoted\u201d", "em\u2014dash", "\U0001f694", "\u0151", "`", "caf\u00e9\u0301"]
)
def test_characters_outside_gsm7_make_it_unencodable(text: str) -> None:
    assert gsm7_septets(text) is None


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("{" * 80, 1),
        ("{" * 81, 2),
        ("a" * 152 + "{" + "a" * 152, 3),  # the escape pair is never split across segments
        ("a" * 151 + "{" + "a" * 153, 2),
        ("\u00e9" * 70 + "\u0151", 2),
        ("\u0151" * 70, 1),
        ("\u0151" * 71, 2),
        ("\u0151" * 134, 2),
        ("\u0151" * 135, 3),
        ("\u0151" * 68 + "\U0001f694", 1),
        ("\u0151" * 66 + "\U0001f694" + "\u0151" * 66, 3),  # nor is a surrogate pair
        ("\u0151" * 65 + "\U0001f694" + "\u0151" * 67, 2),
    ],
)
def test_segment_counts(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("\u2018O\u2019Hara\u2019s\u2019 \u201cLot\u201d", "'O'Hara's' \"Lot\""),
        ("Caf\u00e9 Cr\u00e8me, \u00c5se", "Cafe Creme, Ase"),
        ("Main \u2014 5th \u2013 6th", "Main - 5th - 6th"),
        ("Stra\u00dfe \u00c6gir \u00d8st", "Strasse AEgir Ost"),
        ("Gate\u00a03\n\tRear  lot", "Gate 3 Rear lot"),
        ("Unit \U0001f694 5 \u2603", "Unit 5"),
        ("\uff11\uff12\uff15 Main", "125 Main"),
        ("`quoted`", "'quoted'"),
    ],
)
def test_plain_gsm_text_transliterates_or_drops(raw: str, plain: str) -> None:
    assert plain_gsm_text(raw) == plain
    assert gsm7_septets(plain) is not None


@given(st.text())
def test_plain_gsm_text_is_always_gsm7_encodable(text: str) -> None:
    plain = plain_gsm_text(text)
    assert gsm7_septets(plain) is not None
    assert re.fullmatch(r"[ -~]*", plain)
    assert plain == plain.strip()
