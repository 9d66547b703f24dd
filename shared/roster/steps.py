"""Taking a lifecycle step for one member (issue 14): the pure check
(`shared.roster.lifecycle.check_request`) over what the database holds, then the new status,
the audited step, and the training currency. Never commits: the caller owns the transaction.

An illegal step is refused with `Conflict` (409) carrying the lifecycle's reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict, InvalidInput, NotFound
from shared.kafka.topics import Topics
from shared.policy.model import AgencyConfig
from shared.roster import phones
from shared.roster.actor import Actor
from shared.roster.lifecycle import (
    NEW,
    IllegalTransition,
    Lifecycle,
    MemberFacts,
    Transition,
    TransitionRequest,
    check_request,
)
from shared.roster.models import RosterEntry, RosterTransition
from shared.roster.training_records import recompute, training_done

ENTRIES: Table = RosterEntry.__table__  # type: ignore[assignment]
TRANSITIONS: Table = RosterTransition.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who a first step (`apply`) brings onto the roster."""

    member_id: str
    name: str
    phone: str
    languages: tuple[str, ...] = field(default_factory=tuple)


def lifecycle_of(agency: AgencyConfig) -> Lifecycle:
    lifecycle = agency.policy.lifecycle
    if lifecycle is None:
        raise Conflict(f"{agency.slug}: its policy file has no [lifecycle]; roster files only")
    return lifecycle


async def take_step(
    session: AsyncSession,
    topics: Topics,
    agency: AgencyConfig,
    *,
    member_id: str,
    request: TransitionRequest,
    actor: Actor,
    now: datetime,
    applicant: Applicant | None = None,
) -> Transition:
    """Move the member by `request` and record it; `applicant` is needed (only) for a member
    not yet on the roster."""
    lifecycle = lifecycle_of(agency)
    row = (
        await session.execute(
            select(ENTRIES.c.status, ENTRIES.c.status_since)
            .where(ENTRIES.c.agency == agency.slug, ENTRIES.c.member_id == member_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None and applicant is None:
        raise NotFound(f"{member_id} is not on the roster")
    if row is not None and applicant is not None:
        raise Conflict(f"{member_id} is already on the roster")
    status = NEW if row is None else row.status
    needs_training = any(
        step.needs_training for step in lifecycle.transitions if step.id == request.transition
    )
    done = (
        row is not None
        and needs_training
        and await training_done(session, agency, member_id, row.status_since)
    )
    try:
        step = check_request(lifecycle, MemberFacts(status=status, training_done=done), request)
    except IllegalTransition as error:
        raise Conflict(error.why) from None
    if row is None:
        assert applicant is not None
        await session.execute(
            insert(ENTRIES).values(
                agency=agency.slug,
                member_id=member_id,
                name=applicant.name,
                phone=applicant.phone,
                status=step.target,
                status_since=now,
                on_duty=False,
                on_call=False,
                off_call_until=None,
                training_valid_until=None,
                phone_verified_at=None,
                under_investigation=False,
                languages=list(applicant.languages),
                updated_at=now,
            )
        )
        await phones.request_confirmation(
            session,
            topics,
            agency=agency.slug,
            member_id=member_id,
            phone=applicant.phone,
            now=now,
        )
    else:
        await session.execute(
            update(ENTRIES)
            .where(ENTRIES.c.agency == agency.slug, ENTRIES.c.member_id == member_id)
            .values(status=step.target, status_since=now, updated_at=now)
        )
    await record_steps(
        session,
        agency=agency.slug,
        rows=[
            StepRow(
                member_id=member_id,
                step=step.id,
                from_status=status,
                to_status=step.target,
                reason=request.reason.strip(),
                document=(request.document or "").strip() or None,
                checks=tuple(sorted(request.checks)),
                grounds=request.grounds,
            )
        ],
        actor=actor,
        now=now,
    )
    if step.needs_training:
        await recompute(session, agency, [member_id])
    return step


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step to record for a member (`record_steps`)."""

    member_id: str
    step: str
    from_status: str
    to_status: str
    reason: str
    document: str | None = None
    checks: tuple[str, ...] = ()
    grounds: str | None = None


async def record_steps(
    session: AsyncSession, *, agency: str, rows: Sequence[StepRow], actor: Actor, now: datetime
) -> None:
    """Record the steps, in their order, in one statement."""
    if not rows:
        return
    if any(not row.reason for row in rows):
        raise InvalidInput("a step needs a reason")
    await session.execute(
        insert(TRANSITIONS),
        [
            {
                "id": uuid.uuid4(),
                "agency": agency,
                "member_id": row.member_id,
                "step": row.step,
                "from_status": row.from_status,
                "to_status": row.to_status,
                "at": now,
                "actor_role": actor.role[:16],
                "actor_name": actor.name[:200],
                "via": actor.via,
                "reason": row.reason[:200],
                "document": row.document[:120] if row.document else None,
                "checks": list(row.checks),
                "grounds": row.grounds,
            }
            for row in rows
        ],
    )


@dataclass(frozen=True, slots=True)
class StepRecord:
    step: str
    from_status: str
    to_status: str
    at: datetime
    actor_role: str
    actor_name: str
    via: str
    reason: str
    document: str | None
    checks: list[str]
    grounds: str | None


async def history(session: AsyncSession, agency: str, member_id: str) -> list[StepRecord]:
    """The member's steps, newest first."""
    rows = await session.execute(
        select(
            TRANSITIONS.c.step,
            TRANSITIONS.c.from_status,
            TRANSITIONS.c.to_status,
            TRANSITIONS.c.at,
            TRANSITIONS.c.actor_role,
            TRANSITIONS.c.actor_name,
            TRANSITIONS.c.via,
            TRANSITIONS.c.reason,
            TRANSITIONS.c.document,
            TRANSITIONS.c.checks,
            TRANSITIONS.c.grounds,
        )
        .where(TRANSITIONS.c.agency == agency, TRANSITIONS.c.member_id == member_id)
        .order_by(TRANSITIONS.c.seq.desc())
    )
    return [StepRecord(*row[:9], list(row[9] or []), row[10]) for row in rows]
