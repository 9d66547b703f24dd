"""Storing new incidents: the reports of concurrent requests in one statement.

Most reports name a new incident, and each is stored with its event (the outbox) and its audit
entry. One statement per report paid a round trip, SQLAlchemy's and asyncpg's work and a
commit in PostgreSQL for every report; under load those were most of a report's cost. So the
web process writes them together, as a group commit does: a request that finds fewer than
`in_flight` statements running writes at once, with whatever else is waiting; otherwise its
row waits for the next statement, started the moment one finishes. Alone, a report is written
at once as before; under load, each statement carries the rows that arrived while the previous
one ran. Nothing waits on a timer.

The statement inserts every row whose (agency, external_id) is not stored yet (a unique
constraint, not a look-then-insert: two reports of one incident in one statement, or in two
processes, make one incident) and, only for those, their events and audit entries; it runs in
autocommit, so it is one transaction by itself, and returns the ids it inserted. A row whose
id is not returned names a stored incident: the caller revises it (`reporting`).

A statement that fails for any other reason than a transient one (a row the database refuses)
is retried row by row, so one bad row fails only its own request.
"""

from __future__ import annotations

import asyncio
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Select,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.models import AuditEntry, Incident
from shared.db.commit_signals import raise_flag
from shared.outbox.enqueue import OUTBOX_WRITTEN
from shared.outbox.rows import outbox_insert_from
from shared.transient_failures import is_transient


@dataclass(frozen=True, slots=True)
class NewIncident:
    """One new incident's row, its event's and its audit entry's values."""

    id: uuid.UUID
    agency: str
    external_id: str | None
    report: str
    """The canonical JSON text of the facts (stored as JSONB)."""
    digest: str
    reporter_via: str
    reporter_role: str
    reporter_name: str
    reporter_token_id: uuid.UUID | None
    caller_agency: str
    received_at: datetime
    event_topic: str
    event_key: str
    event_type: str
    event_payload: str
    """The event's JSON text."""


_TYPES: dict[str, Any] = {
    "id": UUID(as_uuid=True),
    "agency": String,
    "external_id": String,
    "report": Text,
    "digest": String,
    "reporter_via": String,
    "reporter_role": String,
    "reporter_name": String,
    "reporter_token_id": UUID(as_uuid=True),
    "caller_agency": String,
    "received_at": DateTime(timezone=True),
    "event_topic": String,
    "event_key": String,
    "event_type": String,
    "event_payload": Text,
}
_COLUMNS = tuple(field.name for field in fields(NewIncident))


def _create_incidents_statement() -> Select[uuid.UUID]:
    """Insert the incidents whose (agency, external_id) is not stored, and only for those their
    events and audit entries (parameters: one array per `NewIncident` field)."""
    incidents = typing.cast(Table, Incident.__table__)
    rows = (
        func.unnest(*(bindparam(name, type_=ARRAY(_TYPES[name])) for name in _COLUMNS))
        .table_valued(*_COLUMNS)
        .render_derived()
        .alias("new_rows")
    )
    new_incident = (
        insert(incidents)
        .from_select(
            [
                "id",
                "agency",
                "external_id",
                "revision",
                "report",
                "report_digest",
                "reporter_via",
                "reporter_role",
                "reporter_name",
                "reporter_token_id",
                "received_at",
                "updated_at",
            ],
            select(
                rows.c.id,
                rows.c.agency,
                rows.c.external_id,
                literal(1),
                cast(rows.c.report, JSONB),
                rows.c.digest,
                rows.c.reporter_via,
                rows.c.reporter_role,
                rows.c.reporter_name,
                rows.c.reporter_token_id,
                rows.c.received_at,
                rows.c.received_at,
            ),
        )
        .on_conflict_do_nothing(index_elements=["agency", "external_id"])
        .returning(incidents.c.id)
        .cte("new_incident")
    )
    stored = rows.join(new_incident, new_incident.c.id == rows.c.id)
    announce = outbox_insert_from(
        select(
            rows.c.event_topic,
            rows.c.event_key,
            rows.c.event_type,
            cast(rows.c.event_payload, JSONB),
        ).select_from(stored)
    )
    audit = insert(typing.cast(Table, AuditEntry.__table__)).from_select(
        ["at", "agency", "actor", "actor_role", "action", "object_type", "object_id", "detail"],
        select(
            rows.c.received_at,
            rows.c.caller_agency,
            rows.c.reporter_name,
            rows.c.reporter_role,
            literal("incident.create"),
            literal("incident"),
            cast(new_incident.c.id, String),
            literal({"revision": 1}, JSONB),
        ).select_from(stored),
    )
    return select(new_incident.c.id).add_cte(announce.cte("announce")).add_cte(audit.cte("audit"))


CREATE_INCIDENTS = _create_incidents_statement()


def create_parameters(rows: Sequence[NewIncident]) -> dict[str, list[Any]]:
    return {name: [getattr(row, name) for row in rows] for name in _COLUMNS}


_Waiting = tuple[NewIncident, "asyncio.Future[bool]"]


class NewIncidentWriter:
    """Writes the new incidents of concurrent requests together (see the module's docstring).

    `engine` must run in autocommit. Each committed statement wakes this process's outbox
    relay."""

    def __init__(self, engine: AsyncEngine, *, in_flight: int = 2, max_rows: int = 200) -> None:
        self._engine = engine
        self._in_flight = in_flight
        self._max_rows = max_rows
        self._running = 0
        self._waiting: list[_Waiting] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def create(self, row: NewIncident) -> bool:
        """Store the incident unless its (agency, external_id) is stored; whether it was."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        self._start_writing()
        return await future

    def _start_writing(self) -> None:
        """Start a statement for what is waiting if fewer than `in_flight` run. It runs in a
        task of its own: a request that goes away does not take the others' rows with it."""
        if not self._waiting or self._running >= self._in_flight:
            return
        batch, self._waiting = self._waiting[: self._max_rows], self._waiting[self._max_rows :]
        self._running += 1
        task = asyncio.create_task(self._write_then_next(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_then_next(self, batch: list[_Waiting]) -> None:
        try:
            await self._write(batch)
        finally:
            self._running -= 1
            self._start_writing()

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            created = await self._execute([row for row, _ in batch])
        except Exception as error:
            if len(batch) == 1 or is_transient(error):
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                return
            for waiting in batch:  # one row the database refuses fails only its request
                await self._write([waiting])
            return
        for row, future in batch:
            if not future.done():
                future.set_result(row.id in created)

    async def _execute(self, rows: list[NewIncident]) -> set[uuid.UUID]:
        async with self._engine.connect() as connection:
            result = await connection.execute(CREATE_INCIDENTS, create_parameters(rows))
            created = set(result.scalars())
            if created:
                await raise_flag(connection, OUTBOX_WRITTEN)
            await connection.commit()  # autocommit: no round trip, it only wakes the relay
        return created
