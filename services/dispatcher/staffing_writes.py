"""What one staffing pass writes, gathered as it decides and written in one statement at its
end: the new assignments, the waiting ones paged now that they are approved, the SMS timer and
page command of every assignment it pages, and the shortfall the coordinators were told of.

One array INSERT (or UPDATE) per table, each a CTE of one statement built once, in place of a
flush per object; the parts with nothing to do insert or update no row. The database still
refuses a taken place or a member twice (IntegrityError), which rolls the whole unit back for
`transactions.in_transaction` to run again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, any_, bindparam, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatcher.assignment_moves import check_move, moved, page_request
from services.dispatcher.assignment_states import AssignmentState
from services.dispatcher.context import DispatcherContext
from services.dispatcher.records import AssignmentRow, DecisionRow
from services.dispatcher.tables import ASSIGNMENTS, DECISIONS
from services.dispatcher.timers import TIMERS_INSERT, TimerKind, timer_parameters, timer_row
from shared.db.array_inserts import array_insert, array_parameters
from shared.events import Event, PageFacts
from shared.outbox.enqueue import flag_outbox_written
from shared.outbox.rows import OUTBOX_INSERT, outbox_parameters

_NEW_COLUMNS = (
    "id",
    "incident_id",
    "agency",
    "member_id",
    "phone",
    "state",
    "slot",
    "slot_cap",
    "overtime_eligible",
    "remind_supervisor",
    "created_at",
    "paged_at",
    "state_changed_at",
)

_PAGED_NOW = (
    update(ASSIGNMENTS)
    .where(ASSIGNMENTS.c.id == any_(bindparam("approved_ids", type_=ARRAY(ASSIGNMENTS.c.id.type))))
    .values(
        state=AssignmentState.PAGED.value,
        paged_at=bindparam("approved_at"),
        state_changed_at=bindparam("approved_at"),
    )
)

_SHORTFALL_TOLD = (
    update(DECISIONS)
    .where(
        DECISIONS.c.incident_id == bindparam("decision_incident_id"),
        DECISIONS.c.alerted_shortfall.is_distinct_from(bindparam("shortfall", type_=Integer)),
    )
    .values(alerted_shortfall=bindparam("shortfall", type_=Integer))
)

_STAFFING_WRITES = select(literal(True)).add_cte(
    *(
        part.cte(f"staffing_{index}")
        for index, part in enumerate(
            (
                array_insert(ASSIGNMENTS, _NEW_COLUMNS, prefix="new"),
                _PAGED_NOW,
                TIMERS_INSERT,
                OUTBOX_INSERT,
                _SHORTFALL_TOLD,
            )
        )
    )
)
"""Every write of a staffing pass: parameters of `array_insert` (prefix `new`), `approved_ids`
and `approved_at`, `timer_parameters`, `outbox_parameters`, `decision_incident_id` and
`shortfall`."""


class StaffingWrites:
    def __init__(self, ctx: DispatcherContext, decision: DecisionRow, now: datetime) -> None:
        self._ctx = ctx
        self._decision = decision
        self._now = now
        self._facts: PageFacts | None = None
        self._new: list[dict[str, Any]] = []
        self._approved: list[uuid.UUID] = []
        self._timers: list[dict[str, Any]] = []
        self._events: list[Event] = []
        self._shortfall = decision.alerted_shortfall

    def assign(
        self,
        *,
        member_id: str,
        phone: str,
        slot: int,
        paged: bool,
        overtime_eligible: bool,
        remind_supervisor: bool,
        by: str | None = None,
    ) -> AssignmentRow:
        """A new assignment holding `slot`: paged at once, or waiting in `awaiting_approval`;
        `by`: the coordinator who asked for this specialist by hand."""
        decision, now = self._decision, self._now
        assignment = AssignmentRow(
            id=uuid.uuid4(),
            incident_id=decision.incident_id,
            agency=decision.agency,
            member_id=member_id,
            phone=phone,
            state=AssignmentState.PAGED if paged else AssignmentState.AWAITING_APPROVAL,
            slot=slot,
            remind_supervisor=remind_supervisor,
            created_at=now,
        )
        self._new.append(
            {
                "id": assignment.id,
                "incident_id": assignment.incident_id,
                "agency": assignment.agency,
                "member_id": member_id,
                "phone": phone,
                "state": assignment.state.value,
                "slot": slot,
                "slot_cap": decision.specialists,
                "overtime_eligible": overtime_eligible,
                "remind_supervisor": remind_supervisor,
                "created_at": now,
                "paged_at": now if paged else None,
                "state_changed_at": now,
            }
        )
        if paged:
            self._page(assignment, by=by)
        else:
            self._events.append(moved(assignment, assignment.state, now, by=by))
        return assignment

    def page_approved(self, assignment: AssignmentRow) -> AssignmentRow:
        """awaiting_approval → paged: the SMS goes out and its timeout starts."""
        check_move(assignment, AssignmentState.PAGED)
        self._approved.append(assignment.id)
        paged = replace(assignment, state=AssignmentState.PAGED)
        self._page(paged)
        return paged

    def announce(self, events: Sequence[Event]) -> None:
        """Events to write with the staffing, before its own (a new decision's)."""
        self._events[:0] = events

    def alerted_shortfall(self, shortfall: int) -> None:
        """Remember the shortfall the coordinators now know of (see `staffing`)."""
        self._shortfall = shortfall

    def _page(self, assignment: AssignmentRow, *, by: str | None = None) -> None:
        if self._facts is None:
            self._facts = PageFacts.model_validate(self._decision.page_facts)
        answer_by = self._now + self._ctx.sms_ack_timeout
        self._timers.append(
            timer_row(
                assignment_id=assignment.id,
                incident_id=assignment.incident_id,
                kind=TimerKind.SMS_TIMEOUT,
                due_at=answer_by,
            )
        )
        self._events.append(
            page_request(
                self._ctx,
                facts=self._facts,
                assignment=assignment,
                channel="sms",
                answer_by=answer_by,
                now=self._now,
            )
        )
        self._events.append(
            moved(assignment, assignment.state, self._now, next_step_at=answer_by, by=by)
        )

    async def write(self, session: AsyncSession) -> None:
        """Everything gathered, in one statement (none when there is nothing to write)."""
        decision = self._decision
        if not (
            self._new
            or self._approved
            or self._events
            or self._shortfall != decision.alerted_shortfall
        ):
            return
        await session.execute(
            _STAFFING_WRITES,
            {
                **array_parameters(self._new, _NEW_COLUMNS, prefix="new"),
                "approved_ids": self._approved,
                "approved_at": self._now,
                **timer_parameters(self._timers),
                **outbox_parameters(self._ctx.topics, self._events),
                "decision_incident_id": decision.incident_id,
                "shortfall": self._shortfall,
            },
        )
        if self._events:
            await flag_outbox_written(session)
