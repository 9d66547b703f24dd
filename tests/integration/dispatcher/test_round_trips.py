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
