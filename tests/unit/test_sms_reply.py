"""SMS replies: the grammar, the page a reply answers, the help reply and its rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.page_text import gsm7_septets, sms_segments
from services.notifier.sms_reply import (
    HELP_TEXT,
    Accept,
    Decline,
    Help,
    NoPageAnswered,
    OpenPage,
    OptIn,
    OptOut,
    PageAnswer,
    Unanswerable,
    Unrecognised,
    help_reply_allowed,
    parse_reply,
    resolve_reply,
)

NOW = datetime(2026, 11, 21, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        "YES",
        "yes",
        "Yes",
        "Y",
        "y",
        "1",
        "ACCEPT",
        "accept",
        "  yes  ",
        "\tY\n",
        "Yes.",
        "YES!",
    ],
)
def test_accept_words(body: str) -> None:
    assert parse_reply(body) == Accept(None)


@pytest.mark.parametrize(
    "body", ["NO", "no", "No", "N", "n", "2", "DECLINE", "Decline", " no \r\n", "No."]
)
def test_decline_words(body: str) -> None:
    assert parse_reply(body) == Decline(None)


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("YES 4821", Accept("4821")),
        ("yes 4821", Accept("4821")),
        ("  Y   4821 ", Accept("4821")),
        ("1 4821", Accept("4821")),
        ("accept\t0042", Accept("0042")),
        ("NO 4821", Decline("4821")),
        ("n 4821", Decline("4821")),
        ("2 4821", Decline("4821")),
        ("Decline 9999.", Decline("9999")),
    ],
)
def test_an_answer_may_name_the_page_by_its_code(body: str, reply: Accept | Decline) -> None:
    assert parse_reply(body) == reply


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
    ],
)
def test_twilio_opt_out_keywords(body: str) -> None:
    assert parse_reply(body) == OptOut()
    assert parse_reply(body, opted_out=True) == OptOut()


@pytest.mark.parametrize("body", ["START", "start", "UNSTOP", " Unstop "])
def test_twilio_opt_in_keywords(body: str) -> None:
    assert parse_reply(body) == OptIn()
    assert parse_reply(body, opted_out=True) == OptIn()


def test_a_bare_yes_from_an_opted_out_number_opts_it_in_and_accepts_nothing() -> None:
    assert parse_reply("YES", opted_out=True) == OptIn()
    assert parse_reply(" yes ", opted_out=True) == OptIn()


def test_other_accept_forms_from_an_opted_out_number_still_accept() -> None:
    assert parse_reply("YES 4821", opted_out=True) == Accept("4821")
    assert parse_reply("Y", opted_out=True) == Accept(None)
    assert parse_reply("1", opted_out=True) == Accept(None)
    assert parse_reply("NO", opted_out=True) == Decline(None)


@pytest.mark.parametrize("body", ["HELP", "help", " Info "])
def test_help_keywords(body: str) -> None:
    assert parse_reply(body) == Help()


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "maybe",
        "yes please",
        "YES 482",
        "YES 48210",
        "YES4821",
        "YES 4821 5555",
        "4821",
        "stop now",
        "cancel 4821",
        "help me",
        "\u0664\u0668\u0662\u0661",
        "YES \u0664\u0668\u0662\u0661",
        "yes?",
        "\U0001f44d",
    ],
)
def test_anything_else_is_unrecognised_and_keeps_its_text(body: str) -> None:
    assert parse_reply(body) == Unrecognised(body.strip())


@given(st.text(), st.booleans())
def test_parsing_never_fails(body: str, opted_out: bool) -> None:
    reply = parse_reply(body, opted_out=opted_out)
    assert isinstance(reply, Accept | Decline | OptOut | OptIn | Help | Unrecognised)
    if isinstance(reply, Accept | Decline) and reply.code is not None:
        assert len(reply.code) == 4 and reply.code.isascii() and reply.code.isdigit()


# Which page a reply answers

OLDER = OpenPage(page_id="p-old", code="1357", sent_at=NOW - timedelta(minutes=30))
NEWER = OpenPage(page_id="p-new", code="4821", sent_at=NOW - timedelta(minutes=2))


def test_without_a_code_the_newest_open_page_is_answered() -> None:
    assert resolve_reply(Accept(None), [NEWER, OLDER]) == PageAnswer("p-new", accepted=True)
    assert resolve_reply(Decline(None), [OLDER, NEWER]) == PageAnswer("p-new", accepted=False)


def test_a_code_picks_its_page_even_when_it_is_not_the_newest() -> None:
    assert resolve_reply(Accept("1357"), [NEWER, OLDER]) == PageAnswer("p-old", accepted=True)
    assert resolve_reply(Decline("1357"), [NEWER, OLDER]) == PageAnswer("p-old", accepted=False)


def test_an_unknown_code_answers_nothing() -> None:
    assert resolve_reply(Accept("9999"), [NEWER, OLDER]) == NoPageAnswered(
        Unanswerable.UNKNOWN_CODE
    )


@pytest.mark.parametrize("reply", [Accept(None), Decline(None), Accept("4821")])
def test_no_open_page_answers_nothing(reply: Accept | Decline) -> None:
    assert resolve_reply(reply, []) == NoPageAnswered(Unanswerable.NO_OPEN_PAGE)


def test_pages_sent_at_the_same_instant_are_told_apart_by_page_id() -> None:
    a = OpenPage(page_id="a", code="1357", sent_at=NOW)
    b = OpenPage(page_id="b", code="2468", sent_at=NOW)
    assert resolve_reply(Accept(None), [b, a]) == PageAnswer("b", accepted=True)
    assert resolve_reply(Accept(None), [a, b]) == PageAnswer("b", accepted=True)


# The help reply and its rate


def test_the_help_reply_is_one_gsm7_segment_and_explains_the_words() -> None:
    assert gsm7_septets(HELP_TEXT) is not None
    assert sms_segments(HELP_TEXT) == 1
    for words in ("YES", "NO", "YES 4821", "STOP"):
        assert words in HELP_TEXT


def test_help_replies_are_allowed_up_to_the_limit_in_the_window() -> None:
    sent: list[datetime] = []
    assert help_reply_allowed(sent, now=NOW)
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=20)]
    assert help_reply_allowed(sent, now=NOW)
    sent.append(NOW - timedelta(minutes=1))
    assert not help_reply_allowed(sent, now=NOW)


def test_help_replies_older_than_the_window_do_not_count() -> None:
    sent = [NOW - timedelta(hours=1), NOW - timedelta(hours=2), NOW - timedelta(minutes=5)]
    assert help_reply_allowed(sent, now=NOW)


def test_the_limit_and_window_are_parameters() -> None:
    sent = [NOW - timedelta(minutes=5)]
    assert not help_reply_allowed(sent, now=NOW, limit=1, window=timedelta(minutes=10))
    assert help_reply_allowed(sent, now=NOW, limit=1, window=timedelta(minutes=4))
    assert not help_reply_allowed([], now=NOW, limit=0)


def test_a_reply_stamped_after_now_counts_against_the_limit() -> None:
    sent = [NOW + timedelta(seconds=5)] * 3
    assert not help_reply_allowed(sent, now=NOW)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        help_reply_allowed([], now=NOW, limit=-1)
    with pytest.raises(ValueError, match="window"):
        help_reply_allowed([], now=NOW, window=timedelta(0))


def test_two_robots_answering_each_other_stop_after_the_limit() -> None:
    # A robot answers every message at once; ours answers its gibberish with help.
    sent: list[datetime] = []
    clock = NOW
    for _ in range(100):
        clock += timedelta(seconds=2)
        if not isinstance(parse_reply("Auto-reply: I am away"), Unrecognised):
            break
        if not help_reply_allowed(sent, now=clock):
            break
        sent.append(clock)
    assert len(sent) == 3
