"""The availability keywords by SMS (issue 14): `OFF`, `ON`, `OFF 8H` and `STATUS` from a
specialist's confirmed phone (grammar and writes in `shared.roster.availability`), and the
replies that say what the service now believes, on the agency's clock.

Only entries whose phone is confirmed (`phone_verified_at`) and equal to the sender's are read
or written; from a number that is on a roster but confirmed on none, nothing changes and the
reply says to confirm it first. `on_call` orders the eligible (CONTRACT §6.2), so the replies
to `OFF` say that pages can still come, later. The replies never mention an investigation.
Should two agencies' rosters have the number confirmed, a change is made on both and each
agency's reply is prefixed by its slug when they differ.

Data functions: they take the caller's session and never commit; the caller holds the phone's
lock (`pages.lock_phone`) and decides whether a reply may go (`pages.take_auto_reply`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.contact_logs import ExchangeSetup
from services.notifier.page_text import SHORT_DAY_NAMES, SHORT_MONTH_NAMES
from services.notifier.pages import answerable_pages
from shared.roster.availability import (
    AskStatus,
    Availability,
    Change,
    Command,
    GoOffCall,
    GoOnCall,
    OffCallFor,
    apply_change,
)
from shared.roster.entry import SpecialistStatus
from shared.roster.models import RosterEntry

ENTRIES = cast(Table, RosterEntry.__table__)

CONFIRM_FIRST_TEXT = (
    "PST: confirm this phone first: reply the 6-digit code texted to it,"
    " or ask your coordinator for a new code. Nothing was changed."
)
FORMS_TEXT = (
    "PST: reply OFF, ON, STATUS, or OFF for up to 7 days, e.g. OFF 8H, OFF 30M, OFF 2D."
    " Nothing was changed."
)
STILL_PAGED = "You can still be paged, but later than when on call."


@dataclass(frozen=True, slots=True)
class ConfirmedEntry:
    """A roster entry of the sender's confirmed phone, as the replies need it."""

    agency: str
    member_id: str
    status: str
    on_call: bool
    off_call_until: datetime | None
    training_valid_until: datetime | None

    @property
    def availability(self) -> Availability:
        return Availability(self.on_call, self.off_call_until)


_CONFIRMED_ENTRIES = (
    select(
        ENTRIES.c.agency,
        ENTRIES.c.member_id,
        ENTRIES.c.status,
        ENTRIES.c.on_call,
        ENTRIES.c.off_call_until,
        ENTRIES.c.training_valid_until,
    )
    .where(ENTRIES.c.phone == bindparam("phone"), ENTRIES.c.phone_verified_at.is_not(None))
    .order_by(ENTRIES.c.agency, ENTRIES.c.member_id)
    .with_for_update()
)


async def confirmed_entries(session: AsyncSession, phone: str) -> list[ConfirmedEntry]:
    """The entries whose confirmed phone is `phone`, locked."""
    rows = await session.execute(_CONFIRMED_ENTRIES, {"phone": phone})
    return [ConfirmedEntry(*row) for row in rows]


async def take_keyword(
    session: AsyncSession, command: Command, *, phone: str, now: datetime, setup: ExchangeSetup
) -> str:
    """Apply an availability keyword from `phone`; the reply."""
    entries = await confirmed_entries(session, phone)
    if not entries:
        return CONFIRM_FIRST_TEXT
    words: list[tuple[str, str]] = []
    if isinstance(command, AskStatus):
        open_pages = len(await answerable_pages(session, phone))
        for entry in entries:
            words.append((entry.agency, status_words(entry, open_pages, now=now, setup=setup)))
        return _joined(words)
    for entry in entries:
        after = await apply_change(
            session,
            command,
            agency=entry.agency,
            member_id=entry.member_id,
            phone=phone,
            now=now,
        )
        if after is not None:
            words.append((entry.agency, change_words(command, entry, after, now=now, setup=setup)))
    return _joined(words) if words else CONFIRM_FIRST_TEXT


def _joined(words: list[tuple[str, str]]) -> str:
    texts = {text for _, text in words}
    if len(texts) == 1:
        return f"PST: {words[0][1]}"
    return "PST: " + " ".join(f"{agency}: {text}" for agency, text in words)


# -- wording (pure) ---------------------------------------------------------------------------
def change_words(
    change: Change,
    entry: ConfirmedEntry,
    after: Availability,
    *,
    now: datetime,
    setup: ExchangeSetup,
) -> str:
    """What a change made of the entry, in a sentence or three."""
    zone = setup.zone(entry.agency)
    match change:
        case GoOffCall():
            return f"you are off call. {STILL_PAGED} ON to return."
        case OffCallFor():
            until = after.off_call_until or now
            when = moment_words(until, now=now, zone=zone)
            if after.on_call:
                return f"you are off call until {when}. {STILL_PAGED} ON to return sooner."
            return (
                f"you are off call, after {when} too: you were off call already."
                f" {STILL_PAGED} ON to return."
            )
        case GoOnCall():
            return " ".join(["you are on call.", *_not_paged_words(entry, now=now, setup=setup)])


def _not_paged_words(entry: ConfirmedEntry, *, now: datetime, setup: ExchangeSetup) -> list[str]:
    """Why the entry is not paged at all, whatever its call state (no investigation named)."""
    notes = []
    if entry.status != SpecialistStatus.ACTIVE:  # the one paged status
        notes.append(f"But you are not paged while {_status(entry, setup)}.")
    if not training_current(entry.training_valid_until, now):
        notes.append("Your training is not current: you are not paged until it is.")
    return notes


def status_words(
    entry: ConfirmedEntry, open_pages: int, *, now: datetime, setup: ExchangeSetup
) -> str:
    """`STATUS`: the lifecycle status, the call state, training, phone and open pages."""
    zone = setup.zone(entry.agency)
    availability = entry.availability
    off_until = availability.off_until(now)
    if availability.on_call_at(now):
        call = "on call"
    elif off_until is not None and availability.on_call:
        call = f"off call until {moment_words(off_until, now=now, zone=zone)}"
    else:
        call = "off call"
    pages = {0: "no open pages", 1: "1 open page"}.get(open_pages, f"{open_pages} open pages")
    return (
        f"status {_status(entry, setup)}; {call}; {training_words(entry, now=now, zone=zone)};"
        f" phone confirmed; {pages}."
    )


def _status(entry: ConfirmedEntry, setup: ExchangeSetup) -> str:
    lifecycle = setup.agency(entry.agency).policy.lifecycle
    if lifecycle is None:
        return entry.status.replace("_", " ")
    return lifecycle.status_words(entry.status)


def training_current(until: datetime | None, now: datetime) -> bool:
    return _forever_and_is_current()[1](until, now)


def _forever_and_is_current() -> tuple[datetime, Callable[[datetime | None, datetime], bool]]:
    """`shared.roster.training_rule`'s sentinel and test, imported when a reply first needs
    them: after the policy core, which that module imports from and which the notifier loads
    only when it must (`contact_logs.agencies_of`)."""
    import shared.policy  # noqa: F401  (first: the training rule's module imports its model)
    from shared.roster.training_rule import FOREVER, is_current

    return FOREVER, is_current


def training_words(entry: ConfirmedEntry, *, now: datetime, zone: ZoneInfo) -> str:
    until = entry.training_valid_until
    if until is None:
        return "no training on record"
    if not training_current(until, now):
        return "training lapsed"
    if until == _forever_and_is_current()[0]:
        return "training current"
    last_day = (until.astimezone(zone) - timedelta(microseconds=1)).date()
    words = f"{last_day.day} {SHORT_MONTH_NAMES[last_day.month - 1]}"
    if last_day.year != now.astimezone(zone).year:
        words += f" {last_day.year}"
    return f"training current until {words}"


def moment_words(moment: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """`19:40` today on the agency's clock, else `Tue 8 Dec 19:40`."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M}"
    day = SHORT_DAY_NAMES[local.weekday()]
    return f"{day} {local.day} {SHORT_MONTH_NAMES[local.month - 1]} {local:%H:%M}"
