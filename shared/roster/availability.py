"""A specialist's availability by SMS keyword from their confirmed phone (issue 14).

Grammar, case and surrounding space ignored, a final `.` or `!` allowed, whole messages only:
- `OFF`: off call (`on_call` false, no `off_call_until`).
- `ON`: on call (`on_call` true, no `off_call_until`).
- `OFF 8H`, `OFF 30M`, `OFF 2D` (also `OFF 8 hours`, `OFF 30 min`, `OFF 2 days`): off call
  for that long (`off_call_until` = now + it), the standing `on_call` unchanged; from one
  minute to `MAX_OFF` (7 days).
- `STATUS`: what the service believes of the member now (the notifier words it).
Anything else is not an availability keyword (`OFFICE`, `OFF 0H`, `OFF 9D`, `OFF8H`).

`on_call` orders the eligible (CONTRACT §6.2), it does not make anyone eligible: an off-call
specialist can still be paged, later than when on call.

`parse_availability` is pure; the writes take the caller's session and never commit, and only
write an entry whose confirmed phone is the sender's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.roster.models import RosterEntry

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]

MAX_OFF = timedelta(days=7)
"""The longest `OFF <duration>`: longer is standing off call (`OFF`), which `ON` ends."""
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}

_FINAL_PUNCTUATION = re.compile(r"[.!]+$")
_OFF_FOR = re.compile(
    r"off\s+(?P<count>[0-9]{1,5})\s*"
    r"(?P<unit>m|mins?|minutes?|h|hrs?|hours?|d|days?)"
)
_OFF_SOMETHING = re.compile(r"(?:off|on)\s*[0-9].*")


@dataclass(frozen=True, slots=True)
class GoOffCall:
    """`OFF`."""


@dataclass(frozen=True, slots=True)
class GoOnCall:
    """`ON`."""


@dataclass(frozen=True, slots=True)
class OffCallFor:
    """`OFF 8H`: off call for `duration`, then back to the standing `on_call`."""

    duration: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) < self.duration <= MAX_OFF:
            raise ValueError(f"off call for more than nothing and at most {MAX_OFF.days} days")


@dataclass(frozen=True, slots=True)
class AskStatus:
    """`STATUS`."""


Change = GoOffCall | GoOnCall | OffCallFor
Command = Change | AskStatus


def _folded(text: str) -> str:
    return " ".join(_FINAL_PUNCTUATION.sub("", text.strip().casefold()).split())


def parse_availability(text: str) -> Command | None:
    """The availability keyword the whole message is, or None."""
    folded = _folded(text)
    match folded:
        case "off":
            return GoOffCall()
        case "on":
            return GoOnCall()
        case "status":
            return AskStatus()
    off_for = _OFF_FOR.fullmatch(folded)
    if off_for is None:
        return None
    duration = int(off_for["count"]) * UNITS[off_for["unit"][0]]
    if not timedelta(0) < duration <= MAX_OFF:
        return None
    return OffCallFor(duration)


def looks_like_availability(text: str) -> bool:
    """Whether a message that is no keyword still reads as an attempt at one with a duration
    (`OFF 9D`, `OFF 8 hours`, `OFF8H`, `ON 2H`): its sender is told the forms rather than the
    pages' help. `ON my way` is not one."""
    return parse_availability(text) is None and _OFF_SOMETHING.fullmatch(_folded(text)) is not None


@dataclass(frozen=True, slots=True)
class Availability:
    """An entry's call state as written: the standing `on_call` and a temporary off-call."""

    on_call: bool
    off_call_until: datetime | None

    def on_call_at(self, now: datetime) -> bool:
        """On call now: the standing value, unless a temporary off-call runs past `now`."""
        return self.on_call and (self.off_call_until is None or self.off_call_until <= now)

    def off_until(self, now: datetime) -> datetime | None:
        """When a temporary off-call that is running at `now` ends, if one is."""
        if self.off_call_until is not None and self.off_call_until > now:
            return self.off_call_until
        return None


def changed_values(change: Change, *, now: datetime) -> dict[str, object]:
    """The roster columns `change` writes at `now`. Pure."""
    match change:
        case GoOffCall():
            return {"on_call": False, "off_call_until": None}
        case GoOnCall():
            return {"on_call": True, "off_call_until": None}
        case OffCallFor(duration=duration):
            return {"off_call_until": now + duration}


async def apply_change(
    session: AsyncSession,
    change: Change,
    *,
    agency: str,
    member_id: str,
    phone: str,
    now: datetime,
) -> Availability | None:
    """Write `change` to the member's entry, if `phone` is still its confirmed phone; the entry's
    availability after it, or None when nothing was written. One statement; never commits."""
    result = await session.execute(
        update(ENTRIES)
        .where(
            ENTRIES.c.agency == agency,
            ENTRIES.c.member_id == member_id,
            ENTRIES.c.phone == phone,
            ENTRIES.c.phone_verified_at.is_not(None),
        )
        .values(**changed_values(change, now=now), updated_at=now)
        .returning(ENTRIES.c.on_call, ENTRIES.c.off_call_until)
    )
    row = result.first()
    return Availability(row.on_call, row.off_call_until) if row is not None else None
