"""The notifier's composition root: Twilio webhooks, and the worker that sends pages.

The lifespan builds everything the process holds (runtime, the Twilio client when configured)
and starts its loops: the page-commands consumer (a burst's runs of commands in one transaction
each), the outbox relay, and one sender per channel (which keeps several claims in flight
itself, and sweeps).
All of it is closed on shutdown; nothing connects at import time.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from services.notifier.page_commands import PageCommandHandler
from services.notifier.send_signals import pages_queued
from services.notifier.sender import PageSender, SenderTuning
from services.notifier.twilio_port import Pager, TwilioPager
from services.notifier.webhooks import webhook_router
from shared.clock import Clock, SystemClock
from shared.db.commit_signals import CommitSignal
from shared.http.service_app import build_service_app
from shared.kafka.clients import build_consumer, build_producer
from shared.kafka.consumer_runner import ConsumerRunner
from shared.loops import ServiceLoops
from shared.outbox.relay import OutboxRelay
from shared.runtime import ServiceRuntime
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.policy import AgencyRegistry

log = logging.getLogger(__name__)

DESCRIPTION = (
    "Turns assignments into Twilio SMS pages and voice calls, takes replies and keypresses "
    "back, and reports delivery status."
)

PagerFactory = Callable[[Settings, SenderTuning], Pager]


def twilio_pager(settings: Settings, tuning: SenderTuning) -> Pager:
    return TwilioPager(settings, request_timeout_s=tuning.request_timeout_s)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    tuning: SenderTuning | None = None,
    pager_factory: PagerFactory = twilio_pager,
    rng: random.Random | None = None,
    registry: AgencyRegistry | None = None,
) -> FastAPI:
    """`registry`: the agencies, for the month a contact log counts in (default: the packaged
    ones, loaded when the first log completes)."""
    sender_tuning = tuning or SenderTuning(
        per_number_interval_s=1.0 / settings.twilio_sends_per_second
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime.open("notifier", settings, clock or SystemClock())
        app.state.runtime = runtime
        pager: Pager | None = None
        if settings.twilio_configured:
            pager = pager_factory(settings, sender_tuning)
        else:
            log.warning(
                "Twilio is not configured: pages are kept in the outbox, marked not sent, "
                "and the dispatcher escalates as if they went unanswered"
            )
        loops = ServiceLoops()
        try:
            _start_loops(loops, runtime, pager, sender_tuning, rng or random.SystemRandom())
            yield
        finally:
            await loops.close()
            if pager is not None:
                await pager.close()
            await runtime.close()

    return build_service_app(
        service="notifier",
        title="PST activation: notifier",
        description=DESCRIPTION,
        lifespan=lifespan,
        routers=[webhook_router(registry)],
    )


def _start_loops(
    loops: ServiceLoops,
    runtime: ServiceRuntime,
    pager: Pager | None,
    tuning: SenderTuning,
    rng: random.Random,
) -> None:
    bootstrap, topics = runtime.kafka_bootstrap, runtime.topics
    page_commands = PageCommandHandler(
        sessions=runtime.sessions, clock=runtime.clock, settings=runtime.settings, rng=rng
    )
    consumer = ConsumerRunner(
        name="notifier",
        consumer_factory=lambda: build_consumer(
            bootstrap, group_id=f"{topics.prefix}notifier", client_id="pst-notifier"
        ),
        subscribe_to=[topics.page_commands],
        handle=page_commands,
        handle_batch=page_commands.handle_batch,
        sessions=runtime.sessions,
        topics=topics,
        clock=runtime.clock,
    )
    relay = OutboxRelay(
        service="notifier",
        engine=runtime.engine,
        producer_factory=lambda: build_producer(bootstrap, client_id="pst-notifier-relay"),
        clock=runtime.clock,
    )
    loops.start("notifier-page-commands", consumer.run)
    loops.start("notifier-outbox-relay", relay.run)
    for channel in ("sms", "call"):
        queued = CommitSignal(runtime.engine, pages_queued(channel))
        loops.on_close(queued.close)
        sender = PageSender(
            channel=channel,
            sessions=runtime.sessions,
            topics=topics,
            clock=runtime.clock,
            settings=runtime.settings,
            pager=pager,
            tuning=tuning,
            queued=queued,
        )
        loops.start(f"notifier-{channel}-sender", sender.run)
