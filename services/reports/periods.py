"""Quarters and months in an agency's own time zone: the only dates statistics know.

No day-level date reaches the chief (830 §IV.D.1): a fact is reduced to its local month before
it is counted, and a quarter is its three months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.calendar_names import MONTH_NAMES

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


class BadQuarter(ValueError):
    """Not a quarter written as YYYYQn."""


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip().upper())
        if match is None:
            raise BadQuarter(f"{text!r} is not a quarter: write it as YYYYQn, e.g. 2026Q4")
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            raise BadQuarter(f"{text!r}: the year must be between 2000 and 2100")
        return cls(year, int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime, zone: ZoneInfo) -> Quarter:
        local = moment.astimezone(zone)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """E.g. "October to December 2026"."""
        first, last = self.month_numbers[0], self.month_numbers[-1]
        return f"{MONTH_NAMES[first - 1]} to {MONTH_NAMES[last - 1]} {self.year}"

    @property
    def month_numbers(self) -> tuple[int, int, int]:
        first = (self.number - 1) * 3 + 1
        return first, first + 1, first + 2

    @property
    def months(self) -> tuple[str, str, str]:
        """The quarter's months as "YYYY-MM"."""
        a, b, c = (f"{self.year}-{month:02d}" for month in self.month_numbers)
        return a, b, c

    def start(self, zone: ZoneInfo) -> datetime:
        """The quarter's first local midnight."""
        return datetime(self.year, self.month_numbers[0], 1, tzinfo=zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The next quarter's first local midnight (exclusive)."""
        return self.next().start(zone)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    """The local month of `moment` as "YYYY-MM"."""
    local = moment.astimezone(zone)
    return f"{local.year}-{local.month:02d}"


def month_label(month: str) -> str:
    """ "2026-11" → "November"."""
    return MONTH_NAMES[int(month[5:7]) - 1]
