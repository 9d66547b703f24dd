"""Whether a specialist's training is current, derived from the records by the policy's rule
(`[training]` in the policy file), never typed in. Pure.

A credit is a local date that counts: a session attended, an absence excused by a memo the
committee approved (830 §IV.E.3.f), or the day the member finished the initial or the
reinstatement training (their step into `active`).

- `quarterly` (830 §IV.E.3.f, "attending quarterly trainings"): the quarter of the last credit
  and the one after it are covered; training lapses when the quarter after that begins (local
  midnight). Attending in February keeps someone current to the end of June.
- `once`: a single credit makes training current for good (FOP #4 §E.1.e-f sets no schedule;
  failing regular training is a ground for removal, E.4.b, which the Lodge President decides).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.grounds import Grounds

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)
"""`valid_until` of training that never lapses."""


class TrainingRule(StrEnum):
    QUARTERLY = "quarterly"
    ONCE = "once"


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    rule: TrainingRule
    grounds: Grounds
    initial_topics: tuple[str, ...] = ()
    """The topics the initial training covers (FOP #4 §E.1.e); none: the committee sets them."""
    notice_days: int = 30
    """Coordinators are told this many days before someone's training lapses."""


def valid_until(
    settings: TrainingSettings, credits: Iterable[date], zone: ZoneInfo
) -> datetime | None:
    """The moment training stops being current (`FOREVER` when it never does), or None when
    the records hold no credit at all."""
    last = max(credits, default=None)
    if last is None:
        return None
    if settings.rule is TrainingRule.ONCE:
        return FOREVER
    first_month = (last.month - 1) // 3 * 3 + 1
    months = last.year * 12 + first_month - 1 + 6
    lapse = date(months // 12, months % 12 + 1, 1)
    return datetime.combine(lapse, time(0), tzinfo=zone).astimezone(UTC)


def is_current(until: datetime | None, now: datetime) -> bool:
    return until is not None and now < until


def lapses_soon(settings: TrainingSettings, until: datetime | None, now: datetime) -> bool:
    """Current now and lapsing within the notice period: time to tell the coordinators."""
    return (
        until is not None
        and until != FOREVER
        and now < until <= now + timedelta(days=settings.notice_days)
    )


def covers_topics(required: Iterable[str], attended_topics: Iterable[Iterable[str]]) -> bool:
    """Whether the sessions attended together cover every required topic (case ignored)."""
    seen = {topic.strip().casefold() for topics in attended_topics for topic in topics}
    return all(topic.strip().casefold() in seen for topic in required)
