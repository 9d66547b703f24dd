"""What every service process holds while it runs: settings, clock, database, broker address.

Built by a service's lifespan (its composition root) and closed when it stops; handlers get it
passed in, nothing reaches for a global.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import Clock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.health import ReadinessReport, check_readiness
from shared.kafka.topics import Topics
from shared.settings import Settings


@dataclass
class ServiceRuntime:
    service: str
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
    kafka_bootstrap: str
    topics: Topics

    @classmethod
    def open(cls, service: str, settings: Settings, clock: Clock) -> ServiceRuntime:
        engine = build_engine(settings.require_database_url(), application_name=f"pst-{service}")
        return cls(
            service=service,
            settings=settings,
            clock=clock,
            engine=engine,
            sessions=build_session_factory(engine),
            kafka_bootstrap=settings.require_kafka_bootstrap(),
            topics=Topics(settings.kafka_topic_prefix),
        )

    async def readiness(self) -> ReadinessReport:
        return await check_readiness(self.engine, self.kafka_bootstrap)

    async def close(self) -> None:
        await self.engine.dispose()
