"""A report of a new incident costs the database one round trip: its one statement (incident,
event and audit entry) commits on its own, with no BEGIN before it and no COMMIT after it, and
that commit wakes this process's outbox relay as any other would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shared.db.commit_signals import CommitSignal
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
