"""Building the dispatcher's parts from a runtime: the one place they are wired together."""

from __future__ import annotations

from dataclasses import dataclass

from services.dispatcher.context import CONSUMER, DispatcherContext
from services.dispatcher.handlers import Dispatcher
from services.dispatcher.timer_loop import TimerLoop
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.consumer_runner import ConsumerRunner
from shared.loops import ServiceLoops
from shared.outbox.relay import OutboxRelay
from shared.policy import AgencyRegistry
from shared.runtime import ServiceRuntime


@dataclass(frozen=True, slots=True)
class DispatcherParts:
    ctx: DispatcherContext
    dispatcher: Dispatcher
    consumer: ConsumerRunner
    timers: TimerLoop
    relay: OutboxRelay


def consumer_group(runtime: ServiceRuntime) -> str:
    return f"{runtime.settings.kafka_topic_prefix}{CONSUMER}"


def build_dispatcher(runtime: ServiceRuntime, registry: AgencyRegistry) -> DispatcherParts:
    ctx = DispatcherContext.build(
        settings=runtime.settings,
        sessions=runtime.sessions,
        clock=runtime.clock,
        registry=registry,
    )
    dispatcher = Dispatcher(ctx)
    bootstrap = runtime.kafka_bootstrap
    consumer = ConsumerRunner(
        name=CONSUMER,
        consumer_factory=lambda: build_consumer(
            bootstrap, group_id=consumer_group(runtime), client_id=CONSUMER
        ),
        subscribe_to=[runtime.topics.incidents, runtime.topics.page_outcomes],
        handle=dispatcher.handle,
        handle_batch=dispatcher.handle_batch,
        sessions=runtime.sessions,
        topics=runtime.topics,
        clock=runtime.clock,
    )
    relay = OutboxRelay(
        service=CONSUMER,
        engine=runtime.engine,
        producer_factory=lambda: build_producer(bootstrap, client_id=f"{CONSUMER}-outbox"),
        clock=runtime.clock,
    )
    return DispatcherParts(ctx, dispatcher, consumer, TimerLoop(ctx), relay)


def start_loops(parts: DispatcherParts) -> ServiceLoops:
    loops = ServiceLoops()
    loops.start("dispatcher-consumer", parts.consumer.run)
    loops.start("dispatcher-timers", parts.timers.run)
    loops.start("dispatcher-outbox", parts.relay.run)
    return loops
