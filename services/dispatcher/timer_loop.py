"""Firing escalation timers when they fall due: SMS unanswered → call; call unanswered → the
assignment times out and the next specialist is paged; a day after an acceptance, the
specialist is asked to log the call-out's contacts.

Time comes from the injectable clock, and the timers are rows: a restarted dispatcher fires
what fell due while it was away, and a timer fires once however many dispatchers run (see
`timers.claim_due_timer`). Each timer fires in its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_moves import end, start_call
from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.contact_log_invitations import invitation
from services.dispatcher.context import DispatcherContext
from services.dispatcher.records import lock_assignment, lock_decision
from services.dispatcher.staffing import staff_incident
from services.dispatcher.tables import TIMERS
from services.dispatcher.timers import TimerKind, claim_due_timer
from services.dispatcher.transactions import in_transaction, single_statement
from shared.outbox.rows import write_events
from shared.transient_failures import is_transient

log = logging.getLogger(__name__)

NO_ANSWER = "no answer"

_DUE = (
    select(TIMERS.c.id, TIMERS.c.incident_id)
    .where(
        TIMERS.c.fired_at.is_(None),
        TIMERS.c.cancelled_at.is_(None),
        TIMERS.c.due_at <= bindparam("now"),
    )
    .order_by(TIMERS.c.due_at, TIMERS.c.id)
    .limit(bindparam("batch_size"))
)


class TimerLoop:
    def __init__(
        self, ctx: DispatcherContext, *, poll_interval_s: float = 0.2, batch_size: int = 100
    ) -> None:
        self._ctx = ctx
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size

    async def run(self, stop: asyncio.Event) -> None:
        """Fire due timers until `stop` is set; a failure is logged and tried again, backing
        off while the database is away (one warning, not a traceback every poll)."""
        wait_s = self._poll_interval_s
        while not stop.is_set():
            try:
                await self.fire_due()
                wait_s = self._poll_interval_s
            except Exception as error:  # the loop must outlive a database outage
                if is_transient(error):
                    if wait_s == self._poll_interval_s:
                        log.warning("firing timers failed; retrying", extra={"error": repr(error)})
                else:
                    log.exception("firing timers failed; will retry")
                wait_s = min(wait_s * 2, 5.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait_s)

    async def fire_due(self, now: datetime | None = None) -> int:
        """Fire every timer due at `now` (default: the clock's now); returns how many fired."""
        moment = now or self._ctx.clock.now()
        fired = 0
        while True:
            due = await self._due(moment)
            failures: list[Exception] = []
            for timer_id, incident_id in due:
                try:
                    if await in_transaction(
                        self._ctx.sessions, self._firing(timer_id, incident_id, moment)
                    ):
                        fired += 1
                except Exception as error:  # one timer that fails must not hold up the others
                    failures.append(error)
            if failures:
                raise failures[0]  # the rest stay pending and are tried at the next poll
            if len(due) < self._batch_size:
                return fired

    async def _due(self, now: datetime) -> list[tuple[int, uuid.UUID]]:
        """The next timers due, read by one statement on its own: the loop polls five times a
        second, so a poll costs one round trip, not three (BEGIN, SELECT, ROLLBACK)."""
        async with self._ctx.sessions() as session:
            await single_statement(session)
            rows = await session.execute(_DUE, {"now": now, "batch_size": self._batch_size})
            return [(row.id, row.incident_id) for row in rows]

    def _firing(
        self, timer_id: int, incident_id: uuid.UUID, now: datetime
    ) -> Callable[[AsyncSession], Awaitable[bool]]:
        ctx = self._ctx

        async def fire(session: AsyncSession) -> bool:
            # the incident first, as every handler does: one lock order, no deadlock
            decision = await lock_decision(session, incident_id)
            timer = await claim_due_timer(session, timer_id=timer_id, now=now)
            if decision is None or timer is None:
                return False
            assignment = await lock_assignment(session, timer.assignment_id)
            if assignment is None:
                return True
            state = assignment.state
            if timer.kind == TimerKind.SMS_TIMEOUT and state is AssignmentState.PAGED:
                await start_call(session, ctx, decision=decision, assignment=assignment)
            elif timer.kind == TimerKind.CALL_TIMEOUT and state is AssignmentState.CALLING:
                await end(
                    session,
                    ctx,
                    assignment=assignment,
                    new=AssignmentState.TIMED_OUT,
                    reason=NO_ANSWER,
                )
                await staff_incident(session, ctx, decision=decision)
            elif timer.kind == TimerKind.CONTACT_LOG and state is AssignmentState.ACCEPTED:
                asked = await invitation(session, assignment, ended_at=now, by_timer=True)
                if asked is not None:
                    await write_events(session, ctx.topics, asked)
            return True

        return fire
