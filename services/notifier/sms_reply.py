"""SMS replies to pages (CONTRACT §6): the grammar, which open page a reply answers, the help
reply and how often it may be sent.

Grammar, case and surrounding space ignored:
- `YES`, `Y`, `1`, `ACCEPT` accept; `NO`, `N`, `2`, `DECLINE` decline; either may be followed
  by whitespace and a 4-digit page code (`YES 4821`), and may end in `.` or `!` (`Yes.`).
- Twilio's opt-out keywords (`STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`,
  `REVOKE`, `OPTOUT`), its opt-in keywords (`START`, `UNSTOP`) and help keywords (`HELP`,
  `INFO`) count only as the whole message, as Twilio matches them. `CANCEL` is an opt-out,
  never a decline: Twilio has already blocked the number when it arrives.
- A bare `YES` is Twilio's third opt-in keyword. From a number that is opted out it is read
  as `OptIn` (Twilio has just unblocked the number, and its owner received no page while
  blocked); from any other number it accepts. `YES 4821` always accepts.
- Anything else is `Unrecognised`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ACCEPT_WORDS = frozenset({"yes", "y", "1", "accept"})
DECLINE_WORDS = frozenset({"no", "n", "2", "decline"})
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
OPT_IN_KEYWORDS = frozenset({"start", "unstop"})
OPT_IN_WHEN_OPTED_OUT = "yes"
HELP_KEYWORDS = frozenset({"help", "info"})

HELP_TEXT = (
    "Peer support pages: reply YES to accept or NO to decline the newest page;"
    " add its code to pick one, e.g. YES 4821. Reply STOP to end texts."
)
"""The help reply: one GSM-7 segment."""

HELP_REPLIES_PER_WINDOW = 3
HELP_REPLY_WINDOW = timedelta(hours=1)

_ANSWER = re.compile(r"(?P<word>[a-z0-9]+)(?:\s+(?P<code>[0-9]{4}))?[.!]*")


@dataclass(frozen=True, slots=True)
class Accept:
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Decline:
    code: str | None = None


@dataclass(frozen=True, slots=True)
class OptOut:
    pass


@dataclass(frozen=True, slots=True)
class OptIn:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Unrecognised:
    text: str


SmsReply = Accept | Decline | OptOut | OptIn | Help | Unrecognised


def parse_reply(body: str, *, opted_out: bool = False) -> SmsReply:
    """What an inbound SMS says; `opted_out` is whether the sending number is opted out."""
    text = body.strip()
    folded = text.casefold()
    if folded in OPT_OUT_KEYWORDS:
        return OptOut()
    if folded in OPT_IN_KEYWORDS or (opted_out and folded == OPT_IN_WHEN_OPTED_OUT):
        return OptIn()
    if folded in HELP_KEYWORDS:
        return Help()
    answer = _ANSWER.fullmatch(folded)
    if answer is not None:
        word, code = answer["word"], answer["code"]
        if word in ACCEPT_WORDS:
            return Accept(code)
        if word in DECLINE_WORDS:
            return Decline(code)
    return Unrecognised(text)


@dataclass(frozen=True, slots=True)
class OpenPage:
    """A page to the number still waiting for an answer."""

    page_id: str
    code: str
    sent_at: datetime


class Unanswerable(StrEnum):
    NO_OPEN_PAGE = "no_open_page"
    UNKNOWN_CODE = "unknown_code"


@dataclass(frozen=True, slots=True)
class PageAnswer:
    page_id: str
    accepted: bool


@dataclass(frozen=True, slots=True)
class NoPageAnswered:
    reason: Unanswerable


def _newest(pages: Sequence[OpenPage]) -> OpenPage:
    return max(pages, key=lambda page: (page.sent_at, page.page_id))


def resolve_reply(
    reply: Accept | Decline, open_pages: Sequence[OpenPage]
) -> PageAnswer | NoPageAnswered:
    """The page an answer is for: the one with its code, else the newest open page.

    Newest is the latest `sent_at`, ties broken by the greater `page_id`. A code held by no
    open page answers nothing (it never falls back to the newest): the number may be
    answering a page that has already closed.
    """
    if not open_pages:
        return NoPageAnswered(Unanswerable.NO_OPEN_PAGE)
    candidates = list(open_pages)
    if reply.code is not None:
        candidates = [page for page in open_pages if page.code == reply.code]
        if not candidates:
            return NoPageAnswered(Unanswerable.UNKNOWN_CODE)
    return PageAnswer(page_id=_newest(candidates).page_id, accepted=isinstance(reply, Accept))


def help_reply_allowed(
    previous_help_replies: Sequence[datetime],
    *,
    now: datetime,
    limit: int = HELP_REPLIES_PER_WINDOW,
    window: timedelta = HELP_REPLY_WINDOW,
) -> bool:
    """Whether one more help reply may go to the number: fewer than `limit` went in the
    `window` before `now` (replies stamped after `now` count too), so two robots answering
    each other stop after `limit` rounds."""
    if limit < 0 or window <= timedelta(0):
        raise ValueError("limit cannot be negative and window must be positive")
    recent = sum(1 for sent_at in previous_help_replies if sent_at > now - window)
    return recent < limit
