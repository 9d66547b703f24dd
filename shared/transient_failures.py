"""Failures that go away by themselves (the database or the broker away for a moment): every
loop retries them for as long as it takes instead of giving up on the work."""

from __future__ import annotations

from aiokafka.errors import KafkaError

from shared.db.availability import database_unavailable


def is_transient(error: BaseException) -> bool:
    if database_unavailable(error):
        return True
    return isinstance(error, OSError | TimeoutError | ConnectionError | KafkaError)
