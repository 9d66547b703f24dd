"""What every dispatcher handler is given: built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.clock import Clock
from shared.db.engine import SessionFactory
from shared.kafka.topics import Topics
from shared.policy import AgencyRegistry
from shared.settings import Settings

CONSUMER = "dispatcher"
"""The dispatcher's name in `processed_events` and its consumer group's suffix."""


@dataclass(frozen=True, slots=True)
class DispatcherContext:
    sessions: SessionFactory
    topics: Topics
    clock: Clock
    registry: AgencyRegistry
    sms_ack_timeout: timedelta
    call_ack_timeout: timedelta

    @classmethod
    def build(
        cls,
        *,
        settings: Settings,
        sessions: SessionFactory,
        clock: Clock,
        registry: AgencyRegistry,
    ) -> DispatcherContext:
        return cls(
            sessions=sessions,
            topics=Topics(settings.kafka_topic_prefix),
            clock=clock,
            registry=registry,
            sms_ack_timeout=timedelta(seconds=settings.sms_ack_timeout_s),
            call_ack_timeout=timedelta(seconds=settings.call_ack_timeout_s),
        )
