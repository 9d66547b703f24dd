"""The SMS page (CONTRACT §6.7): the incident's time, place and event, the page code and reply
words, and the reminders, in at most two GSM-7 segments; and the stood-down notice, with the
same facts and nothing to answer. The input cannot carry names."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.calendar_names import DAY_NAMES, MONTH_NAMES

MAX_SEGMENTS = 2
SINGLE_SEGMENT_SEPTETS = 160
CONCATENATED_SEGMENT_SEPTETS = 153
SINGLE_SEGMENT_UCS2_UNITS = 70
CONCATENATED_SEGMENT_UCS2_UNITS = 67

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 basic set: one septet each (the escape code itself is not a character)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The GSM 03.38 extension set: an escape septet plus one, two septets each."""

AGENCY_MAX_SEPTETS = 12
EVENT_MAX_SEPTETS = 32
ELLIPSIS = "..."

SHORT_DAY_NAMES = tuple(name[:3] for name in DAY_NAMES)
SHORT_MONTH_NAMES = tuple(name[:3] for name in MONTH_NAMES)

EVENT_WORDS = {
    "officer_involved_shooting": "officer-involved shooting",
    "use_of_force": "use of force",
    "vehicle_collision": "vehicle collision",
    "vehicle_pursuit": "vehicle pursuit",
    "line_of_duty_death": "line-of-duty death",
    "member_illness": "member illness",
    "member_injury": "member injury",
    "family_death": "death in a member's family",
    "tactical_deployment": "tactical deployment",
    "natural_disaster": "natural disaster",
    "other": "critical incident",
}

CONFIDENTIALITY_REMINDER = "Confidentiality has limits: never promise it."
SUPERVISOR_REMINDER = "If you accept, tell your immediate supervisor."
NO_LOCATION_WORDS = "(location not given)"
STOOD_DOWN_WORDS = "You are no longer needed; no reply needed. Thank you."

_PAGE_CODE = re.compile(r"[0-9]{4}")

_PLAIN_FOR = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u00b4`",
    '"': "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb",
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212",
    "/": "\u2044",
}
_SPELLED_OUT = {
    "\u00df": "ss",
    "\u00e6": "ae",
    "\u00c6": "AE",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u0111": "d",
    "\u0110": "D",
    "\u0142": "l",
    "\u0141": "L",
    "\u00fe": "th",
    "\u00de": "Th",
    "\u00f0": "d",
    "\u00d0": "D",
    "\u0131": "i",
}
_TRANSLITERATIONS = str.maketrans(
    {char: plain for plain, chars in _PLAIN_FOR.items() for char in chars} | _SPELLED_OUT
)


@dataclass(frozen=True, slots=True)
class PageLocation:
    """Where the incident happened (WGS84), and its street address when the reporter gave one."""

    lat: float
    lon: float
    address: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError("lat must be a number from -90 to 90")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError("lon must be a number from -180 to 180")


@dataclass(frozen=True, slots=True)
class PageIncident:
    """All a page may say about an incident: no persons, no names, no summary."""

    agency: str
    occurred_at: datetime
    time_zone: str
    event: str
    location: PageLocation | None = None

    def __post_init__(self) -> None:
        if self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")


def gsm7_septets(text: str) -> int | None:
    """The septets `text` takes in the GSM-7 alphabet, or None when it needs UCS-2."""
    septets = 0
    for char in text:
        if char in GSM7_BASIC:
            septets += 1
        elif char in GSM7_EXTENSION:
            septets += 2
        else:
            return None
    return septets


def _pack(costs: list[int], single: int, concatenated: int) -> int:
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > concatenated:
            segments, used = segments + 1, 0
        used += cost
    return segments


def sms_segments(text: str) -> int:
    """How many SMS segments `text` is sent as: GSM-7 when it can be, else UCS-2.

    A concatenated segment holds 153 septets (67 UTF-16 units); a two-septet extension
    character or a surrogate pair is never split across segments. The empty text is 0.
    """
    if not text:
        return 0
    if gsm7_septets(text) is not None:
        costs = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return _pack(costs, SINGLE_SEGMENT_SEPTETS, CONCATENATED_SEGMENT_SEPTETS)
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return _pack(costs, SINGLE_SEGMENT_UCS2_UNITS, CONCATENATED_SEGMENT_UCS2_UNITS)


def plain_gsm_text(text: str) -> str:
    """`text` in printable ASCII, which GSM-7 carries everywhere: accents dropped (é → e),
    curly quotes straightened, dashes made hyphens, whitespace runs made one space, and
    anything without a plain form dropped."""
    decomposed = unicodedata.normalize("NFKD", text).translate(_TRANSLITERATIONS)
    kept = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        if char.isspace():
            kept.append(" ")
        elif " " <= char <= "~":
            kept.append(char)
    return " ".join("".join(kept).split())


def _capped(text: str, max_septets: int) -> str:
    """`text` (GSM-7 encodable) cut to at most `max_septets`."""
    kept, used = [], 0
    for char in text:
        used += 2 if char in GSM7_EXTENSION else 1
        if used > max_septets:
            break
        kept.append(char)
    return "".join(kept).rstrip()


def event_words(event: str) -> str:
    """The event in short plain words."""
    if event in EVENT_WORDS:
        return EVENT_WORDS[event]
    words = plain_gsm_text(event.replace("_", " "))
    return _capped(words, EVENT_MAX_SEPTETS) or EVENT_WORDS["other"]


def local_time(incident: PageIncident) -> datetime:
    """When the incident happened, on the agency's clock."""
    return incident.occurred_at.astimezone(ZoneInfo(incident.time_zone))


def short_time_words(incident: PageIncident) -> str:
    """The incident's local time, compact: `Fri 20 Nov 22:14`."""
    moment = local_time(incident)
    day = SHORT_DAY_NAMES[moment.weekday()]
    month = SHORT_MONTH_NAMES[moment.month - 1]
    return f"{day} {moment.day} {month} {moment:%H:%M}"


def coordinates_words(location: PageLocation) -> str:
    """`lat,lon` to four decimals (about 11 m)."""
    return f"{location.lat:.4f},{location.lon:.4f}"


def _place_phrase(location: PageLocation | None, address: str | None) -> str:
    if address:
        return f"at {address}"
    if location is not None:
        return f"at {coordinates_words(location)}"
    return NO_LOCATION_WORDS


def _agency_words(incident: PageIncident) -> str:
    return _capped(plain_gsm_text(incident.agency), AGENCY_MAX_SEPTETS)


def _compose(incident: PageIncident, place: str, *, code: str, remind_supervisor: bool) -> str:
    parts = [
        f"Peer support page ({_agency_words(incident)}): {event_words(incident.event)} {place},"
        f" {short_time_words(incident)}.",
        f"Reply YES {code} to accept, NO {code} to decline.",
    ]
    if remind_supervisor:
        parts.append(SUPERVISOR_REMINDER)
    parts.append(CONFIDENTIALITY_REMINDER)
    return " ".join(parts)


def _fits(text: str) -> bool:
    return sms_segments(text) <= MAX_SEGMENTS


def _fitted(location: PageLocation | None, compose: Callable[[str], str]) -> str:
    """`compose(place)` in at most two GSM-7 segments: with the whole address, else the longest
    start of it that fits (followed by `...`), else the coordinates."""
    address = (
        plain_gsm_text(location.address).rstrip(" ,") if location and location.address else None
    )

    def composed(place_address: str | None) -> str:
        return compose(_place_phrase(location, place_address))

    full = composed(address)
    if address is None or _fits(full):
        return full
    shortest, longest = 0, len(address)
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if _fits(composed(address[:middle].rstrip(" ,") + ELLIPSIS)):
            shortest = middle
        else:
            longest = middle - 1
    kept = address[:shortest].rstrip(" ,")
    return composed(kept + ELLIPSIS if kept else None)


def page_text(incident: PageIncident, *, code: str, remind_supervisor: bool) -> str:
    """The SMS page: at most two GSM-7 segments, shortening the address when it must.

    `code` is the page's 4-digit code; `remind_supervisor` adds the reminder to tell the
    immediate supervisor (kcmo 830 §IV.A.3).
    """
    if not _PAGE_CODE.fullmatch(code):
        raise ValueError("a page code is four digits")
    return _fitted(
        incident.location,
        lambda place: _compose(incident, place, code=code, remind_supervisor=remind_supervisor),
    )


def stood_down_text(incident: PageIncident) -> str:
    """The SMS that tells a specialist already paged (or who accepted) that the team was stood
    down: the same facts as the page, no code, no answer asked; at most two GSM-7 segments."""
    return _fitted(
        incident.location,
        lambda place: (
            f"PST ({_agency_words(incident)}): the team for the {event_words(incident.event)}"
            f" {place}, {short_time_words(incident)}, is stood down. {STOOD_DOWN_WORDS}"
        ),
    )
