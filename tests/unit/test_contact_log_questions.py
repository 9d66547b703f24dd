"""The contact-log exchange's questions and answers: what each question takes, that anything
else gets the question's help and changes nothing, the texts' size and what they never say, the
form's token, and the month a log counts in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.contact_log_questions import (
    HOURS_QUESTION,
    KIND_QUESTION,
    LINK_REMOVED,
    LOGGED_TEXT,
    NOTHING_LOGGED_TEXT,
    QUESTIONS,
    REFERRAL_QUESTION,
    SKIPPED_TEXT,
    Asked,
    Completed,
    ContactAnswers,
    Ended,
    EndReason,
    NotUnderstood,
    Progress,
    Step,
    form_link,
    form_token_hash,
    help_text,
    is_log_keyword,
    is_number,
    local_month,
    looks_like_form_token,
    month_start,
    new_form_token,
    opening_text,
    parse_hours,
    parse_kind,
    parse_people,
    parse_referral,
    take_answer,
)
from services.notifier.page_text import gsm7_septets, sms_segments

CHICAGO = ZoneInfo("America/Chicago")
PUBLIC_URL = "https://pst.kcpd.example.org"


@pytest.mark.parametrize(
    ("body", "people"),
    [("0", 0), ("3", 3), (" 12 ", 12), ("50", 50), ("7.", 7), ("07", 7)],
)
def test_people_is_a_whole_number_from_0_to_50(body: str, people: int) -> None:
    assert parse_people(body) == people


@pytest.mark.parametrize("body", ["51", "-1", "3 people", "three", "2.5", "", "100", "1 2"])
def test_anything_else_is_not_a_number_of_people(body: str) -> None:
    assert parse_people(body) is None


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("M", "member"),
        ("m", "member"),
        ("Members", "member"),
        ("F", "family"),
        ("family!", "family"),
    ],
)
def test_kind_is_m_or_f(body: str, kind: str) -> None:
    assert parse_kind(body) == kind


@pytest.mark.parametrize("body", ["1", "both", "mf", "my wife", ""])
def test_anything_else_is_no_kind(body: str) -> None:
    assert parse_kind(body) is None


@pytest.mark.parametrize(
    ("body", "referral"),
    [("1", "eap"), ("2", "mhp"), ("3", "other"), ("4", "none"), ("EAP", "eap"), ("none", "none")],
)
def test_referral_is_1_to_4_or_its_word(body: str, referral: str) -> None:
    assert parse_referral(body) == referral


@pytest.mark.parametrize("body", ["0", "5", "12", "counsellor", "the chaplain"])
def test_anything_else_is_no_referral(body: str) -> None:
    assert parse_referral(body) is None


@pytest.mark.parametrize(
    ("body", "hours"),
    [
        ("2", 2.0),
        ("1.5", 1.5),
        ("1,5", 1.5),
        (".5", 0.5),
        ("0", 0.0),
        ("48", 48.0),
        ("1:30", 1.5),
        ("0:20", 0.25),
        ("2h", 2.0),
        ("2 hours", 2.0),
        ("1.5 hrs", 1.5),
        ("1.3", 1.25),
        ("1.4", 1.5),
        ("1.125", None),
    ],
)
def test_hours_are_a_number_in_quarter_hours(body: str, hours: float | None) -> None:
    assert parse_hours(body) == hours


@pytest.mark.parametrize("body", ["49", "-1", "two", "an afternoon", "", "1.5.2", "h", "1:75"])
def test_anything_else_is_no_hours(body: str) -> None:
    assert parse_hours(body) is None


@given(st.text(max_size=40))
def test_hours_when_parsed_are_quarters_from_0_to_48(body: str) -> None:
    hours = parse_hours(body)
    assert hours is None or (0 <= hours <= 48 and (hours * 4).is_integer())


def test_the_whole_exchange_keeps_parsed_values_and_completes_with_the_hours() -> None:
    start = Progress(Step.PEOPLE)
    asked = take_answer(start, "3")
    assert asked == Asked(Progress(Step.KIND, people=3), KIND_QUESTION)
    assert isinstance(asked, Asked)
    asked = take_answer(asked.progress, "F")
    assert asked == Asked(Progress(Step.REFERRAL, people=3, kind="family"), REFERRAL_QUESTION)
    assert isinstance(asked, Asked)
    asked = take_answer(asked.progress, "2")
    assert asked == Asked(
        Progress(Step.HOURS, people=3, kind="family", referral="mhp"), HOURS_QUESTION
    )
    assert isinstance(asked, Asked)
    done = take_answer(asked.progress, "1,5")
    assert done == Completed(ContactAnswers(people=3, kind="family", referral="mhp", hours=1.5))
    assert isinstance(done, Completed) and done.text == LOGGED_TEXT


def test_zero_people_and_skip_end_with_nothing_logged() -> None:
    assert take_answer(Progress(Step.PEOPLE), "0") == Ended(EndReason.NOTHING, NOTHING_LOGGED_TEXT)
    for step in Step:
        progress = Progress(step, people=2, kind="member", referral="eap")
        assert take_answer(progress, " skip ") == Ended(EndReason.SKIPPED, SKIPPED_TEXT)


@pytest.mark.parametrize("step", list(Step))
@pytest.mark.parametrize("body", ["he was crying about his divorce", "HELP", "YES", "?", ""])
def test_anything_unexpected_gets_the_question_help_and_keeps_nothing(
    step: Step, body: str
) -> None:
    progress = Progress(step, people=2, kind="member", referral="eap")
    assert take_answer(progress, body) == NotUnderstood(help_text(step))
    assert QUESTIONS[step] in help_text(step) and "SKIP" in help_text(step)


def test_the_answers_are_checked() -> None:
    with pytest.raises(ValueError, match="people"):
        ContactAnswers(people=0, kind="member", referral="none", hours=1)
    with pytest.raises(ValueError, match="hours"):
        ContactAnswers(people=1, kind="member", referral="none", hours=1.1)
    with pytest.raises(ValueError, match="hours"):
        ContactAnswers(people=1, kind="member", referral="none", hours=49)
    with pytest.raises(ValueError, match="kind"):
        ContactAnswers(people=1, kind="friend", referral="none", hours=1)  # type: ignore[arg-type]


def test_every_text_is_plain_gsm_and_each_question_one_segment() -> None:
    link = form_link(PUBLIC_URL, new_form_token())
    for source in ("incident", "direct"):
        opening = opening_text(source, link)
        assert gsm7_septets(opening) is not None
        assert sms_segments(opening) <= 2
        assert link in opening
        assert LINK_REMOVED in opening_text(source, None) and "http" not in opening_text(
            source, None
        )
    for step in Step:
        assert sms_segments(help_text(step)) == 1 and gsm7_septets(help_text(step)) is not None
        assert sms_segments(QUESTIONS[step]) == 1


def test_the_first_sms_says_nothing_of_the_incident() -> None:
    text = opening_text("incident", form_link(PUBLIC_URL, new_form_token()))
    assert text.startswith("Peer support: your call-out has ended.")
    assert not re.search(r"\b(at|on) [0-9A-Z]", text), "no place, no time"
    assert not re.search(r"[0-9]{1,2}:[0-9]{2}", text)


def test_the_form_token_is_256_random_bits_stored_as_its_sha256() -> None:
    tokens = {new_form_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert looks_like_form_token(token) and len(token) == 43
    assert re.fullmatch(r"[0-9a-f]{64}", form_token_hash(token))
    assert form_token_hash(token) != token
    assert form_link(PUBLIC_URL + "/", token) == f"{PUBLIC_URL}/console/log/{token}"
    assert not looks_like_form_token("short")
    assert not looks_like_form_token(token + "/")


def test_keywords_are_whole_messages() -> None:
    assert is_log_keyword(" log ") and is_log_keyword("Log.")
    assert not is_log_keyword("log 3") and not is_log_keyword("blog")
    assert is_number("2") and is_number(" 12. ")
    assert not is_number("yes") and not is_number("Y")


def test_the_month_is_the_agency_local_month() -> None:
    # 1 December 2026, 03:30 UTC is still 30 November, 21:30 in Kansas City.
    late = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)
    assert local_month(late, CHICAGO) == "2026-11"
    assert local_month(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), CHICAGO) == "2026-12"
    start = month_start(late, CHICAGO)
    assert start == datetime(2026, 11, 1, 5, 0, tzinfo=UTC), "midnight CDT, 1 November"
    assert local_month(start, CHICAGO) == "2026-11"
