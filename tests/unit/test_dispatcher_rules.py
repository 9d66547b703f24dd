"""Small dispatcher rules that need no servers: overtime per agency, which failures retry."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from services.dispatcher.staffing import overtime_eligible
from services.dispatcher.transactions import lost_a_race
from shared.policy import load_registry


def test_kcmo_assignments_are_overtime_eligible_and_kck_ones_never() -> None:
    registry = load_registry()
    assert overtime_eligible(registry.get("kcmo"))  # 830 §III.D.1: activated by the manager
    assert not overtime_eligible(registry.get("kck"))  # FOP #4 §F.3


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (IntegrityError("INSERT", {}, _PgError("23505")), True),
        (OperationalError("UPDATE", {}, _PgError("40P01")), True),
        (DBAPIError("UPDATE", {}, _PgError("40001")), True),
        (OperationalError("SELECT", {}, _PgError("57P01")), False),
        (DBAPIError("SELECT", {}, _PgError("42P01")), False),
    ],
)
def test_only_a_lost_race_runs_the_work_again(error: DBAPIError, retried: bool) -> None:
    assert lost_a_race(error) is retried
