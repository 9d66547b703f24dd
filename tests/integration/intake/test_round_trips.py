"""A report of a new incident costs the database one round trip: its one statement (incident,
event and audit entry) commits on its own, with no BEGIN before it and no COMMIT after it, and
that commit wakes this process's outbox relay as any other would. Concurrent reports share
their statements (`services.intake.new_incidents`), and one row the database refuses fails only
its own report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError

from services.intake.models import AuditEntry, Incident
from services.intake.new_incidents import NewIncident, NewIncidentWriter
from shared.db.commit_signals import CommitSignal
from shared.db.unit_of_work import unit_of_work
from shared.outbox.enqueue import OUTBOX_WRITTEN
from tests.integration.intake.conftest import Intake, bearer
from tests.integration.intake.reports import kcmo_death


@contextmanager
def transaction_commands(intake: Intake) -> Iterator[list[str]]:
    """The BEGIN, COMMIT and ROLLBACK commands asyncpg sends while the block runs (it logs
    those, not the prepared statements SQLAlchemy executes)."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(str(record.query).split()[0].rstrip(";").upper())

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    engine = intake.engine.sync_engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield sent
    finally:
        event.remove(engine, "checkout", on_checkout)


async def test_a_new_incident_is_stored_without_a_transaction_around_it(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    warm = await intake.client.post(
        "/v1/incidents", json=kcmo_death("KC-RT-1"), headers=bearer(token)
    )
    assert warm.status_code == 202  # the token is now cached: no lookup below

    with transaction_commands(intake) as sent:
        created = await intake.client.post(
            "/v1/incidents", json=kcmo_death("KC-RT-2"), headers=bearer(token)
        )
    assert created.status_code == 202
    assert sent == []

    with transaction_commands(intake) as sent:
        repeated = await intake.client.post(
            "/v1/incidents", json=kcmo_death("KC-RT-2"), headers=bearer(token)
        )
    assert repeated.json()["result"] == "unchanged"
    assert sent[0] == "BEGIN"  # a known incident is locked and revised in a transaction


async def test_its_commit_still_wakes_this_process_outbox_relay(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    written = CommitSignal(intake.engine, OUTBOX_WRITTEN)
    try:
        answer = await intake.client.post(
            "/v1/incidents", json=kcmo_death("KC-RT-3"), headers=bearer(token)
        )
        assert answer.status_code == 202
        started = asyncio.get_running_loop().time()
        await written.wait(asyncio.Event(), timeout_s=5)
        assert asyncio.get_running_loop().time() - started < 1
    finally:
        written.close()


@contextmanager
def incident_inserts(intake: Intake) -> Iterator[list[int]]:
    """How many rows each statement that inserts incidents was given."""
    sizes: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "INSERT INTO incidents" in statement:
            sizes.append(len(parameters[0]) if isinstance(parameters, tuple) else 1)

    engine = intake.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sizes
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_concurrent_reports_share_their_statements(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    await intake.client.post("/v1/incidents", json=kcmo_death("KC-RT-W"), headers=bearer(token))
    reports = [kcmo_death(f"KC-RT-C{n}") for n in range(30)]
    with incident_inserts(intake) as sizes:
        answers = await asyncio.gather(
            *(intake.client.post("/v1/incidents", json=r, headers=bearer(token)) for r in reports)
        )
    assert [a.status_code for a in answers] == [202] * 30
    assert {a.json()["result"] for a in answers} == {"created"}
    assert sum(sizes) == 30 and len(sizes) < 30, sizes
    stored = [
        m
        for m in await intake.outbox()
        if m["payload"]["report"]["external_id"].startswith("KC-RT-C")
    ]
    assert sorted(m["payload"]["report"]["external_id"] for m in stored) == sorted(
        r["external_id"] for r in reports
    ), "each report's event once"
    ids = {a.json()["incident_id"] for a in answers}
    assert {m["payload"]["incident_id"] for m in stored} == ids
    async with unit_of_work(intake.sessions) as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "incident.create", AuditEntry.object_id.in_(ids))
        )
    assert audited == 30


async def test_one_incident_from_two_reports_in_one_statement(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    first, second = await asyncio.gather(
        *(
            intake.client.post(
                "/v1/incidents", json=kcmo_death("KC-RT-TWICE"), headers=bearer(token)
            )
            for _ in range(2)
        )
    )
    assert sorted([first.json()["result"], second.json()["result"]]) == ["created", "unchanged"]
    assert first.json()["incident_id"] == second.json()["incident_id"]
    async with unit_of_work(intake.sessions) as session:
        stored = await session.scalar(
            select(func.count()).select_from(Incident).where(Incident.external_id == "KC-RT-TWICE")
        )
    assert stored == 1


async def test_a_row_the_database_refuses_fails_only_its_own_report(intake: Intake) -> None:
    writer = NewIncidentWriter(intake.engine.execution_options(isolation_level="AUTOCOMMIT"))
    good = [_row(f"KC-RT-OK{n}") for n in range(3)]
    refused = replace(_row("KC-RT-BAD"), agency="k" * 65)  # longer than the column
    results = await asyncio.gather(
        *(writer.create(row) for row in [good[0], refused, *good[1:]]), return_exceptions=True
    )
    assert results[0] is True and results[2:] == [True, True]
    assert isinstance(results[1], DBAPIError)
    async with unit_of_work(intake.sessions) as session:
        stored = (
            await session.scalars(
                select(Incident.external_id).where(Incident.external_id.like("KC-RT-%"))
            )
        ).all()
    assert sorted(str(external_id) for external_id in stored) == [
        "KC-RT-OK0",
        "KC-RT-OK1",
        "KC-RT-OK2",
    ]


def _row(external_id: str) -> NewIncident:
    at = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    return NewIncident(
        id=uuid.uuid4(),
        agency="kcmo",
        external_id=external_id,
        report='{"agency": "kcmo"}',
        digest="0" * 64,
        reporter_via="api",
        reporter_role="commander",
        reporter_name="commander of kcmo",
        reporter_token_id=None,
        caller_agency="kcmo",
        received_at=at,
        event_topic="unused.incidents",
        event_key=external_id,
        event_type="incident.reported",
        event_payload=f'{{"external_id": "{external_id}"}}',
    )
