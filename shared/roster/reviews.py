"""Reviews of a specialist's failures to assist (FOP #4 §E.4.d; issue 14): the console opens
one when the dispatcher tells the coordinators of a third failure within twelve months, and a
coordinator records the decision (keep on the team, or remove). Removing is then its own
lifecycle step (`remove`), recorded separately. Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, InvalidInput, NotFound
from shared.roster.actor import Actor
from shared.roster.models import RosterReview

REVIEWS: Table = RosterReview.__table__  # type: ignore[assignment]

Decision = Literal["keep", "remove"]
DECISIONS: tuple[Decision, ...] = ("keep", "remove")
MAX_REASON = 200
REMOVE_STEP = "remove"
"""The lifecycle step a decision to remove leads to."""
FAILURE_TO_ASSIST = "E.4.d"
"""The ground of removal the review is about, where the removal step lists grounds."""

_OPEN = insert(REVIEWS).on_conflict_do_nothing(index_elements=[REVIEWS.c.alert_id])


async def open_review(
    session: AsyncSession,
    *,
    agency: str,
    member_id: str,
    alert_id: uuid.UUID,
    opened_at: datetime,
    failures: int,
) -> bool:
    """The alert's review, once however often the alert comes; False when it was there."""
    inserted = await session.execute(
        _OPEN.returning(REVIEWS.c.id),
        {
            "id": uuid.uuid4(),
            "agency": agency,
            "member_id": member_id,
            "alert_id": alert_id,
            "opened_at": opened_at,
            "failures": failures,
            "decided_at": None,
            "decided_by": None,
            "decision": None,
            "reason": None,
        },
    )
    return inserted.first() is not None


@dataclass(frozen=True, slots=True)
class Review:
    id: uuid.UUID
    member_id: str
    opened_at: datetime
    failures: int
    decided_at: datetime | None
    decided_by: str | None
    decision: str | None
    reason: str | None

    @property
    def is_open(self) -> bool:
        return self.decided_at is None


_COLUMNS = (
    REVIEWS.c.id,
    REVIEWS.c.member_id,
    REVIEWS.c.opened_at,
    REVIEWS.c.failures,
    REVIEWS.c.decided_at,
    REVIEWS.c.decided_by,
    REVIEWS.c.decision,
    REVIEWS.c.reason,
)


async def open_reviews(session: AsyncSession, agency: str) -> list[Review]:
    """The agency's undecided reviews, oldest first."""
    rows = await session.execute(
        select(*_COLUMNS)
        .where(REVIEWS.c.agency == agency, REVIEWS.c.decided_at.is_(None))
        .order_by(REVIEWS.c.opened_at, REVIEWS.c.id)
    )
    return [Review(*row) for row in rows]


async def reviews_of(session: AsyncSession, agency: str, member_id: str) -> list[Review]:
    """The member's reviews, open and decided, newest first."""
    rows = await session.execute(
        select(*_COLUMNS)
        .where(REVIEWS.c.agency == agency, REVIEWS.c.member_id == member_id)
        .order_by(REVIEWS.c.opened_at.desc(), REVIEWS.c.id)
    )
    return [Review(*row) for row in rows]


async def decide_review(
    session: AsyncSession,
    *,
    agency: str,
    review_id: uuid.UUID,
    decision: str,
    reason: str,
    actor: Actor,
    now: datetime,
) -> Review:
    """Record the decision on an open review, with who took it and when."""
    if decision not in DECISIONS:
        raise InvalidInput("decision: keep on the team, or remove")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: why, 1 to {MAX_REASON} characters")
    row = (
        await session.execute(
            select(*_COLUMNS)
            .where(REVIEWS.c.agency == agency, REVIEWS.c.id == review_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such review of your agency")
    found = Review(*row)
    if not found.is_open:
        raise Conflict(
            f"the review was decided already ({found.decision}, by {found.decided_by}): "
            "nothing was changed"
        )
    await session.execute(
        update(REVIEWS)
        .where(REVIEWS.c.id == review_id)
        .values(decided_at=now, decided_by=actor.label[:200], decision=decision, reason=reason)
    )
    return Review(
        found.id,
        found.member_id,
        found.opened_at,
        found.failures,
        now,
        actor.label[:200],
        decision,
        reason,
    )
