"""What an incident costs the database: the dispatcher is CPU-bound under load, and most of its
CPU goes to statements and transactions, so their number per incident is held here."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from tests.integration.dispatcher.conftest import Harness, report, roster_entry


@contextmanager
def counting(harness: Harness) -> Iterator[Counter[str]]:
    """Statements sent, and transactions begun (BEGIN … COMMIT, not autocommitted statements)."""
    counts: Counter[str] = Counter()

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def begin(connection: Connection) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            counts["transactions"] += 1

    engine = harness.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "begin", begin)


async def test_a_report_and_its_two_sent_pages_cost_five_statements_in_one_transaction(
    harness: Harness,
) -> None:
    await harness.roster(*(roster_entry(f"M{n:02d}", on_call=n % 2 == 0) for n in range(40)))
    await harness.report()  # the first use of each statement prepares it

    incident = uuid.uuid4()
    with counting(harness) as reported:
        await harness.dispatcher.handle(harness.reported(incident, report()))
    assignments = await harness.assignments(incident)
    assert [a.state for a in assignments] == ["paged", "paged"]
    # the claim with the decision, the picture of the roster, the writes
    assert reported == {"statements": 3, "transactions": 1}

    for assignment in assignments:
        with counting(harness) as sent:
            await harness.outcome(assignment, "sent")
        # claimed and recorded in one statement, which needs no BEGIN and COMMIT
        assert sent == {"statements": 1}


async def test_a_burst_of_reports_is_one_transaction_and_its_sent_pages_one_statement(
    harness: Harness,
) -> None:
    """In a burst the runner hands the dispatcher runs of events (`handle_batch`): the reports
    of a run share one transaction, still three statements each (one at a time: one
    transaction each); the "sent" outcomes of a run are claimed and recorded by one statement
    (one at a time: one statement each)."""
    await harness.roster(*(roster_entry(f"M{n:02d}", on_call=n % 2 == 0) for n in range(40)))
    warm_up = [harness.reported(uuid.uuid4(), report()) for _ in range(2)]
    await harness.dispatcher.handle_batch(warm_up)  # the first use of each statement prepares it
    await harness.dispatcher.handle_batch(
        [
            harness.outcome_event(assignment, "sent")
            for event in warm_up
            for assignment in await harness.assignments(event.incident_id)
        ]
    )

    burst = [harness.reported(uuid.uuid4(), report()) for _ in range(5)]
    with counting(harness) as reported:
        await harness.dispatcher.handle_batch(burst)
    assert reported == {"statements": 3 * len(burst), "transactions": 1}

    assignments = [a for event in burst for a in await harness.assignments(event.incident_id)]
    assert [a.state for a in assignments] == ["paged"] * 2 * len(burst)
    with counting(harness) as sent:
        await harness.dispatcher.handle_batch(
            [harness.outcome_event(assignment, "sent") for assignment in assignments]
        )
    assert sent == {"statements": 1, "transactions": 1}
