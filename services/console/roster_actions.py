"""What coordinators and managers do to the roster's life in the console (issue 14): each in
one transaction with its audit row, through `shared.roster`'s own writes (the lifecycle's
steps, a member's details, phone codes, training records, reviews). A refused one (a 4xx)
rolls back and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.accounts import audit
from services.console.accounts.sessions import SignedIn
from services.console.actions import caller_of
from services.console.context import ConsoleContext
from services.intake.handlers import actor_of as caller_actor
from shared.db.unit_of_work import unit_of_work
from shared.errors import Conflict, NotFound
from shared.policy.model import AgencyConfig
from shared.roster import phones
from shared.roster.actor import Actor
from shared.roster.details import DetailsChange, MemberDetails, update_details
from shared.roster.lifecycle import Transition, TransitionRequest
from shared.roster.models import RosterEntry
from shared.roster.reviews import Review, decide_review
from shared.roster.steps import Applicant, take_step
from shared.roster.training_files import ImportedSession
from shared.roster.training_records import Mark, mark_attendance
from shared.roster.training_sessions import (
    ImportSummary,
    add_session,
    clear_marks,
    import_sessions,
    sessions_of,
)

T = TypeVar("T")


def actor_of(user: SignedIn) -> Actor:
    """The signed-in person as the roster's steps record them (as intake's roster writes do)."""
    return caller_actor(caller_of(user))


async def _audited(
    ctx: ConsoleContext,
    user: SignedIn,
    action: str,
    work: Callable[[AsyncSession, AgencyConfig], Awaitable[T]],
    *,
    object_type: str,
    object_id: str,
    detail: Callable[[T], Mapping[str, audit.DetailValue]] | None = None,
) -> T:
    """`work` and its audit row in one transaction, committed once."""
    config = ctx.registry.get(user.agency)
    async with unit_of_work(ctx.runtime.sessions) as session:
        done = await work(session, config)
        audit.record_by(
            session,
            user,
            action,
            at=ctx.runtime.clock.now(),
            object_type=object_type,
            object_id=object_id[:64],
            detail=detail(done) if detail else None,
        )
        await session.commit()
    return done


async def add_applicant(
    ctx: ConsoleContext, user: SignedIn, applicant: Applicant, request: TransitionRequest
) -> Transition:
    """The first step: the applicant onto the roster, and a code to their phone."""

    async def work(session: AsyncSession, config: AgencyConfig) -> Transition:
        return await take_step(
            session,
            ctx.runtime.topics,
            config,
            member_id=applicant.member_id,
            request=request,
            actor=actor_of(user),
            now=ctx.runtime.clock.now(),
            applicant=applicant,
        )

    return await _audited(
        ctx,
        user,
        "roster.apply",
        work,
        object_type="specialist",
        object_id=applicant.member_id,
        detail=lambda step: {"step": step.id},
    )


async def step(
    ctx: ConsoleContext, user: SignedIn, member_id: str, request: TransitionRequest
) -> Transition:
    async def work(session: AsyncSession, config: AgencyConfig) -> Transition:
        return await take_step(
            session,
            ctx.runtime.topics,
            config,
            member_id=member_id,
            request=request,
            actor=actor_of(user),
            now=ctx.runtime.clock.now(),
        )

    return await _audited(
        ctx,
        user,
        "roster.step",
        work,
        object_type="specialist",
        object_id=member_id,
        detail=lambda step: {"step": step.id, "to": step.target},
    )


async def edit_details(
    ctx: ConsoleContext, user: SignedIn, member_id: str, details: MemberDetails
) -> DetailsChange:
    async def work(session: AsyncSession, config: AgencyConfig) -> DetailsChange:
        return await update_details(
            session,
            ctx.runtime.topics,
            agency=config.slug,
            member_id=member_id,
            details=details,
            now=ctx.runtime.clock.now(),
        )

    return await _audited(
        ctx,
        user,
        "roster.edit",
        work,
        object_type="specialist",
        object_id=member_id,
        detail=lambda change: {
            "changed": ",".join(change.changed),
            "phone_to_confirm": change.phone_to_confirm,
        },
    )


async def send_code(ctx: ConsoleContext, user: SignedIn, member_id: str) -> str:
    """A new code to the member's unconfirmed phone; returns the phone."""

    async def work(session: AsyncSession, config: AgencyConfig) -> str:
        row = (
            await session.execute(
                select(RosterEntry.phone, RosterEntry.phone_verified_at)
                .where(RosterEntry.agency == config.slug, RosterEntry.member_id == member_id)
                .with_for_update()
            )
        ).one_or_none()
        if row is None:
            raise NotFound("no such specialist on your agency's roster")
        if row.phone_verified_at is not None:
            raise Conflict("the phone is confirmed already: no code is needed")
        await phones.request_confirmation(
            session,
            ctx.runtime.topics,
            agency=config.slug,
            member_id=member_id,
            phone=row.phone,
            now=ctx.runtime.clock.now(),
        )
        phone: str = row.phone
        return phone

    return await _audited(
        ctx, user, "roster.phone_code", work, object_type="specialist", object_id=member_id
    )


async def decide(
    ctx: ConsoleContext, user: SignedIn, review_id: uuid.UUID, decision: str, reason: str
) -> Review:
    async def work(session: AsyncSession, config: AgencyConfig) -> Review:
        return await decide_review(
            session,
            agency=config.slug,
            review_id=review_id,
            decision=decision,
            reason=reason,
            actor=actor_of(user),
            now=ctx.runtime.clock.now(),
        )

    return await _audited(
        ctx,
        user,
        "roster.review_decide",
        work,
        object_type="review",
        object_id=str(review_id),
        detail=lambda review: {"member_id": review.member_id, "decision": review.decision},
    )


async def record_training(
    ctx: ConsoleContext,
    user: SignedIn,
    *,
    held_on: date,
    title: str,
    topics: Sequence[str],
    marks: Sequence[Mark],
) -> uuid.UUID:
    async def work(session: AsyncSession, config: AgencyConfig) -> uuid.UUID:
        return await add_session(
            session,
            config,
            held_on=held_on,
            title=title,
            topics=topics,
            marks=marks,
            actor=actor_of(user),
            now=ctx.runtime.clock.now(),
        )

    return await _audited(
        ctx,
        user,
        "training.record",
        work,
        object_type="training",
        object_id=user.agency,
        detail=lambda made: {"session_id": str(made), "marks": len(marks)},
    )


async def change_marks(
    ctx: ConsoleContext,
    user: SignedIn,
    session_id: uuid.UUID,
    marks: Sequence[Mark],
    absent: Sequence[str],
) -> None:
    async def work(session: AsyncSession, config: AgencyConfig) -> None:
        if not await sessions_of(session, config.slug, session_id=session_id, limit=1):
            raise NotFound("no such training session of your agency")
        now = ctx.runtime.clock.now()
        await mark_attendance(session, config, session_id, marks, actor=actor_of(user), now=now)
        await clear_marks(session, config, session_id, absent)

    await _audited(
        ctx,
        user,
        "training.mark",
        work,
        object_type="training_session",
        object_id=str(session_id),
        detail=lambda _: {"marks": len(marks), "absent": len(absent)},
    )


async def import_training(
    ctx: ConsoleContext, user: SignedIn, sessions: Sequence[ImportedSession]
) -> ImportSummary:
    async def work(session: AsyncSession, config: AgencyConfig) -> ImportSummary:
        return await import_sessions(
            session, config, sessions, actor=actor_of(user), now=ctx.runtime.clock.now()
        )

    return await _audited(
        ctx,
        user,
        "training.import",
        work,
        object_type="training",
        object_id=user.agency,
        detail=lambda summary: {
            "sessions_added": summary.sessions_added,
            "sessions_updated": summary.sessions_updated,
            "marks": summary.marks,
        },
    )
