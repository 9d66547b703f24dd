"""Readiness: can this process reach its database and its Kafka broker right now?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka.client import AIOKafkaClient
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import ping

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ReadinessReport:
    database: str
    broker: str

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.broker == "ok"


async def _database_state(engine: AsyncEngine) -> str:
    try:
        await asyncio.wait_for(ping(engine), CHECK_TIMEOUT_S)
    except Exception as error:  # any failure means "not ready", reported by name
        return f"unreachable: {type(error).__name__}"
    return "ok"


async def _broker_state(bootstrap: str) -> str:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2_000)
    try:
        await asyncio.wait_for(client.bootstrap(), CHECK_TIMEOUT_S)
    except Exception as error:  # any failure means "not ready", reported by name
        return f"unreachable: {type(error).__name__}"
    finally:
        await client.close()
    return "ok"


async def check_readiness(engine: AsyncEngine, bootstrap: str) -> ReadinessReport:
    database, broker = await asyncio.gather(_database_state(engine), _broker_state(bootstrap))
    return ReadinessReport(database=database, broker=broker)
