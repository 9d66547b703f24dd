"""The team's directory (830 §III.C, §IV.D.3.i; FOP #4 §A.2, §D.2.c): the agency's active
specialists with a number members can call and the languages they speak, for every member of
the agency, behind one link per agency (`directory_links`).

Whoever has the link sees the list; rotating it ends the old one at once. Who opens it is never
recorded: reading the directory writes nothing, and the token is never a query parameter (the
links are few, one per agency, and compared here in constant time), so no statement logged or
quoted in an error can carry it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.languages import language_name
from shared.calendar_names import MONTH_NAMES
from shared.policy.model import AgencyConfig
from shared.roster.entry import SpecialistStatus
from shared.roster.models import DirectoryLink, RosterEntry, RosterTransition

TEAM_NAME = "Peer Support Team"
"""What both policies call the team (830 §I, FOP #4's title)."""
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64
"""`directory_links.token`'s width: anything longer is no link of ours."""
LISTED_STATUS = SpecialistStatus.ACTIVE.value
LINKS: Table = DirectoryLink.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Listed:
    """One specialist as the directory shows them: `phone` only once it is confirmed."""

    name: str
    phone: str | None
    languages: tuple[str, ...]

    @property
    def phone_text(self) -> str:
        """`(816) 555-0101` for a North American number, E.164 otherwise; '' when unconfirmed."""
        phone = self.phone or ""
        if len(phone) == 12 and phone.startswith("+1"):
            return f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        return phone


@dataclass(frozen=True, slots=True)
class Directory:
    agency: str
    agency_name: str
    team_name: str
    listed: tuple[Listed, ...]
    updated_at: datetime | None
    """The roster's last change that can show here; None: it never had anyone."""
    zone: str

    @property
    def confirming(self) -> int:
        return sum(1 for line in self.listed if line.phone is None)

    @property
    def updated_on(self) -> str:
        return long_date(self.updated_at, self.zone) if self.updated_at else ""


@dataclass(frozen=True, slots=True)
class Link:
    agency: str
    token: str
    rotated_at: datetime
    rotated_by: str


def long_date(moment: datetime, zone: str) -> str:
    """`21 November 2026`, the day in the agency's time zone, in English whatever the locale."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {MONTH_NAMES[local.month - 1]} {local.year}"


async def directory_of(session: AsyncSession, agency: AgencyConfig) -> Directory:
    """The agency's active specialists by name, as members see them."""
    rows = await session.execute(
        select(
            RosterEntry.name,
            RosterEntry.phone,
            RosterEntry.phone_verified_at,
            RosterEntry.languages,
        ).where(RosterEntry.agency == agency.slug, RosterEntry.status == LISTED_STATUS)
    )
    listed = sorted(
        (
            Listed(
                name=row.name,
                phone=row.phone if row.phone_verified_at is not None else None,
                languages=tuple(language_name(code) for code in row.languages or ()),
            )
            for row in rows
        ),
        key=lambda line: (line.name.casefold(), line.name),
    )
    return Directory(
        agency=agency.slug,
        agency_name=agency.name,
        team_name=TEAM_NAME,
        listed=tuple(listed),
        updated_at=await _last_change(session, agency.slug),
        zone=agency.time_zone,
    )


async def _last_change(session: AsyncSession, agency: str) -> datetime | None:
    """When the roster last changed in a way the directory can show: an entry written, a phone
    confirmed, a member's step (one leaving the roster leaves only that)."""
    moments = union_all(
        select(func.max(RosterEntry.updated_at).label("at")).where(RosterEntry.agency == agency),
        select(func.max(RosterEntry.phone_verified_at)).where(RosterEntry.agency == agency),
        select(func.max(RosterTransition.at)).where(RosterTransition.agency == agency),
    ).subquery()
    latest: datetime | None = await session.scalar(select(func.max(moments.c.at)))
    return latest


async def agency_of_link(session: AsyncSession, token: str) -> str | None:
    """The agency whose current link `token` is, or None (unknown, or rotated out)."""
    offered = token.encode()
    if not offered or len(offered) > MAX_TOKEN_LENGTH:
        return None
    found = None
    for agency, current in (await session.execute(select(LINKS.c.agency, LINKS.c.token))).all():
        if hmac.compare_digest(current.encode(), offered):
            found = agency
    return found


async def link_of(session: AsyncSession, agency: str) -> Link | None:
    row = await session.get(DirectoryLink, agency)
    if row is None:
        return None
    return Link(row.agency, row.token, row.rotated_at, row.rotated_by)


async def rotate_link(session: AsyncSession, *, agency: str, by: str, now: datetime) -> Link:
    """A new link for the agency (the first, or one that ends the old at once). No commit."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    statement = insert(LINKS).values(
        agency=agency, token=token, rotated_at=now, rotated_by=by[:200]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["agency"],
            set_={
                "token": statement.excluded.token,
                "rotated_at": statement.excluded.rotated_at,
                "rotated_by": statement.excluded.rotated_by,
            },
        )
    )
    return Link(agency, token, now, by[:200])
