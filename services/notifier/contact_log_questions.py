"""The contact-log exchange by SMS (issue 13): its questions, the answers it takes, its form
link and the month a log counts in. Pure.

After an accepted call-out ends, or when a specialist texts `LOG`, the specialist is asked four
questions, one an SMS, to count the contacts it led to (830 §IV.D.3.f, "anonymous statistical
data of reported contacts by PSS"). Counselling content is never kept (830 §III.H): an expected
answer is kept only as its parsed value, and anything else gets the question's help text and is
dropped, so the service never holds a specialist's own words.

Grammar, per question (case and surrounding space ignored, a final `.` or `!` too):
- people: a whole number 0-50 (`3`); `0` ends the exchange, nothing logged.
- kind: `M`, `MEMBER`, `MEMBERS` or `F`, `FAMILY`.
- referral: `1` EAP, `2` the team's mental health professional, `3` another professional,
  `4` none (or the words `EAP`, `MHP`, `OTHER`, `NONE`).
- hours: 0-48 as a number with a point or a comma (`1.5`, `1,5`, `.5`) or as hours and minutes
  (`1:30`), optionally followed by `h`, `hr`, `hrs`, `hour` or `hours`; rounded to the nearest
  quarter hour, which is as fine as payroll counts. Anything that is not a number is refused,
  whatever it says.
- `SKIP` (whole message) at any question ends the exchange, nothing logged.

`LOG` (whole message) from a roster phone asks for a direct exchange (FOP #4 §A.1: a member may
call a specialist directly).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from shared.events import ContactKind, Referral

Source = Literal["incident", "direct"]

MAX_PEOPLE = 50
MAX_HOURS = 48.0
HOURS_STEP = 0.25
"""Hours are kept in quarter hours."""

LOG_KEYWORD = "log"
SKIP_KEYWORD = "skip"

FORM_PATH = "/console/log/"
"""Where the console serves the phone-sized form, followed by the token."""
FORM_TOKEN_BYTES = 32
"""256 random bits: nothing to guess, so SHA-256 alone keeps the stored hash useless."""


class Step(StrEnum):
    """The question the exchange waits an answer to, in the order they are asked."""

    PEOPLE = "people"
    KIND = "kind"
    REFERRAL = "referral"
    HOURS = "hours"


PEOPLE_QUESTION = "How many people did you support? Reply a number 0-50 (0 if none)."
KIND_QUESTION = "Were they members or family? Reply M for members, F for family."
REFERRAL_QUESTION = (
    "Referred to? Reply 1 EAP, 2 the team's mental health professional,"
    " 3 another professional, 4 none."
)
HOURS_QUESTION = "How many hours did you give? Reply a number 0-48, e.g. 1.5"
QUESTIONS = {
    Step.PEOPLE: PEOPLE_QUESTION,
    Step.KIND: KIND_QUESTION,
    Step.REFERRAL: REFERRAL_QUESTION,
    Step.HOURS: HOURS_QUESTION,
}
NOT_UNDERSTOOD = "Not understood; nothing kept."
OR_SKIP = "Or reply SKIP."

INCIDENT_OPENING = "Peer support: your call-out has ended. Please log its contacts, anonymously."
DIRECT_OPENING = "Peer support: log a contact, anonymously."
FORM_WORDS = "Or use this form, once:"
LINK_REMOVED = "(link closed)"
"""What replaces the link in the stored SMS once the exchange has ended: only its hash was ever
kept, and the text sent need not keep it either."""

LOGGED_TEXT = "Thank you, logged."
NOTHING_LOGGED_TEXT = "Thank you. Nothing logged."
SKIPPED_TEXT = "Skipped. Nothing logged."

_FINAL_PUNCTUATION = re.compile(r"[.!]+$")
_PEOPLE = re.compile(r"[0-9]{1,2}")
_DIGITS = re.compile(r"[0-9]+")
_HOURS_UNIT = re.compile(r"\s*(?:h|hr|hrs|hour|hours)$")
_DECIMAL_HOURS = re.compile(r"(?P<whole>[0-9]{0,2})(?:[.,](?P<fraction>[0-9]{1,2}))?")
_CLOCK_HOURS = re.compile(r"(?P<hours>[0-9]{1,2}):(?P<minutes>[0-5][0-9])")
_KINDS: dict[str, ContactKind] = {
    "m": "member",
    "member": "member",
    "members": "member",
    "f": "family",
    "family": "family",
}
_REFERRALS: dict[str, Referral] = {
    "1": "eap",
    "eap": "eap",
    "2": "mhp",
    "mhp": "mhp",
    "3": "other",
    "other": "other",
    "4": "none",
    "none": "none",
}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _folded(body: str) -> str:
    return _FINAL_PUNCTUATION.sub("", body.strip().casefold()).strip()


def is_log_keyword(body: str) -> bool:
    """Whether the message is `LOG`, the whole of it."""
    return _folded(body) == LOG_KEYWORD


def is_number(body: str) -> bool:
    """Whether the message is digits alone: the exchange's answer, even where the page grammar
    also reads `1` and `2` as YES and NO (`inbound_sms` gives them to the exchange)."""
    return _DIGITS.fullmatch(_folded(body)) is not None


def parse_people(body: str) -> int | None:
    """0-50, or None when the message is not such a number."""
    text = _folded(body)
    if not _PEOPLE.fullmatch(text):
        return None
    people = int(text)
    return people if people <= MAX_PEOPLE else None


def parse_kind(body: str) -> ContactKind | None:
    return _KINDS.get(_folded(body))


def parse_referral(body: str) -> Referral | None:
    return _REFERRALS.get(_folded(body))


def parse_hours(body: str) -> float | None:
    """0-48 in quarter hours (the nearest, halves up), or None when it is not such a number."""
    text = _HOURS_UNIT.sub("", _folded(body))
    clock = _CLOCK_HOURS.fullmatch(text)
    decimal = _DECIMAL_HOURS.fullmatch(text)
    if clock is not None:
        hours = int(clock["hours"]) + int(clock["minutes"]) / 60
    elif decimal is not None and (decimal["whole"] or decimal["fraction"]):
        fraction = decimal["fraction"] or "0"
        hours = int(decimal["whole"] or 0) + int(fraction) / 10 ** len(fraction)
    else:
        return None
    quarters = int(hours / HOURS_STEP + 0.5)
    rounded = quarters * HOURS_STEP
    return rounded if rounded <= MAX_HOURS else None


@dataclass(frozen=True, slots=True)
class ContactAnswers:
    """A complete log: what `ContactLogged` carries, and nothing else (no free text)."""

    people: int
    kind: ContactKind
    referral: Referral
    hours: float

    def __post_init__(self) -> None:
        if not 1 <= self.people <= MAX_PEOPLE:
            raise ValueError(f"people is 1-{MAX_PEOPLE} (0 logs nothing)")
        if self.kind not in ("member", "family"):
            raise ValueError("kind is member or family")
        if self.referral not in ("eap", "mhp", "other", "none"):
            raise ValueError("referral is eap, mhp, other or none")
        if not 0 <= self.hours <= MAX_HOURS or (self.hours / HOURS_STEP) % 1:
            raise ValueError(f"hours is 0-{MAX_HOURS:g} in quarter hours")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an open exchange is: the question it waits for and the answers taken so far."""

    step: Step
    people: int | None = None
    kind: ContactKind | None = None
    referral: Referral | None = None


@dataclass(frozen=True, slots=True)
class Asked:
    """The answer was taken: keep `progress`, send the next question."""

    progress: Progress
    text: str


@dataclass(frozen=True, slots=True)
class Completed:
    """The last answer was taken: log `answers`."""

    answers: ContactAnswers
    text: str = LOGGED_TEXT


class EndReason(StrEnum):
    NOTHING = "nothing"  # no one was supported (0)
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Ended:
    """The exchange ends with nothing logged."""

    reason: EndReason
    text: str


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    """Not an answer to the question: nothing is kept; the help text may be sent."""

    text: str


ExchangeStep = Asked | Completed | Ended | NotUnderstood


def help_text(step: Step) -> str:
    return f"{NOT_UNDERSTOOD} {QUESTIONS[step]} {OR_SKIP}"


def take_answer(progress: Progress, body: str) -> ExchangeStep:
    """What the message does to the exchange at `progress`."""
    if _folded(body) == SKIP_KEYWORD:
        return Ended(EndReason.SKIPPED, SKIPPED_TEXT)
    match progress.step:
        case Step.PEOPLE:
            people = parse_people(body)
            if people == 0:
                return Ended(EndReason.NOTHING, NOTHING_LOGGED_TEXT)
            if people is not None:
                return Asked(replace(progress, step=Step.KIND, people=people), KIND_QUESTION)
        case Step.KIND:
            kind = parse_kind(body)
            if kind is not None:
                return Asked(replace(progress, step=Step.REFERRAL, kind=kind), REFERRAL_QUESTION)
        case Step.REFERRAL:
            referral = parse_referral(body)
            if referral is not None:
                return Asked(replace(progress, step=Step.HOURS, referral=referral), HOURS_QUESTION)
        case Step.HOURS:
            hours = parse_hours(body)
            if hours is not None:
                return Completed(_complete(progress, hours))
    return NotUnderstood(help_text(progress.step))


def _complete(progress: Progress, hours: float) -> ContactAnswers:
    if progress.people is None or progress.kind is None or progress.referral is None:
        raise ValueError("the hours are asked only once the other answers are kept")
    return ContactAnswers(
        people=progress.people, kind=progress.kind, referral=progress.referral, hours=hours
    )


def opening_text(source: Source, link: str | None) -> str:
    """The exchange's first SMS: why, the first question, and the form's link (None: the link
    closed). It names nobody and says nothing of the incident: no place, no time."""
    opening = INCIDENT_OPENING if source == "incident" else DIRECT_OPENING
    return f"{opening} {PEOPLE_QUESTION} {OR_SKIP} {FORM_WORDS} {link or LINK_REMOVED}"


def new_form_token() -> str:
    """The form's one-use token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(FORM_TOKEN_BYTES)


def form_token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (as for bearer tokens, `intake.token_codec`)."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_form_token(token: str) -> bool:
    """Whether `token` has the shape `new_form_token` gives: anything else is unknown at once."""
    return _TOKEN.fullmatch(token) is not None


def form_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{FORM_PATH}{token}"


def local_month(at: datetime, zone: ZoneInfo) -> str:
    """The agency's local month of `at`: `2026-11`."""
    return f"{at.astimezone(zone):%Y-%m}"


def month_start(at: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of the agency's local month of `at`: the only time a contact's log
    carries, so it says no more than its month."""
    local = at.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
