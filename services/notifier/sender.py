"""The sender loop: sends the queued pages of one channel (SMS or call) through the `Pager`.

One loop per channel claims due rows with `FOR UPDATE SKIP LOCKED`, marks them `sending` and
commits before calling Twilio; once Twilio has answered every page of the claim, it records all
their results in one transaction: so a page is never sent twice, by this process or another.
The loop does not wait for Twilio's answers before claiming again: up to
`SenderTuning.in_flight` claims are being sent at once. A row still `sending` after its
`sending_until` (the process died mid-request) may or may not have reached Twilio: the sweep
makes it `uncertain`, never resent.

The sending number's rate (one message per `per_number_interval_s`, and the same for calls) is
a row per sending number and channel, locked by the same statement that claims the rows: every
notifier process shares it, so the number is never carrier-blocked, and no handler sleeps for it.

The loop wakes at the commit that queues a page of its channel (`send_signals.pages_queued`),
when a page queued for later (after a 429) is due, and otherwise looks every `poll_interval_s`
(for pages queued by another process); while the sending number is busy it waits for it, not
for new pages. A page's
`sent` outcome does not wake the outbox relay (the dispatcher only records it): the relay
publishes it at its next poll; every other outcome wakes the relay at once.

The SMS loop also ends, every `contact_log_sweep_interval_s`, the contact-log exchanges left
unanswered (`contact_log_expiry`), so that each phone's next one is asked, and deletes the phone
confirmation codes that expired unanswered (`phone_confirmations.expire_overdue_codes`).

Without Twilio credentials (`pager` None) due rows become `not_sent`, each logged once with its
text, and stay readable by the coordinators (`console.pages_not_sent`). In the same transaction
each becomes a `MessageKeptUnsent` on the activity topic (its text, and its code if it has one),
which the console's test phones show (`test_phones` answers as them). Nothing is reported to the
dispatcher: its timers escalate as if the page went unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.contact_log_expiry import expire_overdue_exchanges
from services.notifier.metrics import NOT_SENT, SEND_ATTEMPTS
from services.notifier.outcomes import count_reported, outcome_event
from services.notifier.page_states import PageKind, SendState
from services.notifier.phone_confirmations import expire_overdue_codes
from services.notifier.send_rules import Settled, answered, swept, unsendable
from services.notifier.sending_rows import (
    Answer,
    Claimed,
    SendingRow,
    claim,
    claim_statement,
    locked_queued_rows,
    overdue_probe,
    overdue_rows_statement,
    queued_rows_statement,
    queued_rows_with_codes,
    read_rows,
    record_answers,
    write_rows,
)
from services.notifier.twilio_port import CallRequest, Pager, SendResult, SmsRequest
from shared.clock import Clock
from shared.db.commit_signals import CommitSignal
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import MessageKeptUnsent
from shared.kafka.topics import Topics
from shared.outbox.enqueue import flag_outbox_written
from shared.outbox.rows import write_events
from shared.settings import Settings
from shared.transient_failures import is_transient

log = logging.getLogger(__name__)

MAX_VALIDITY_PERIOD_S = 36_000
SWEEP_BATCH = 100
FIRST_RETRY_S = 0.2
"""After a transient failure (the database away), the first wait; it doubles up to 5 s."""
PUBLISHED_AT_LEISURE = frozenset({"sent"})
"""Outcomes that change nothing at the dispatcher but its record: they do not wake the outbox
relay, which publishes them at its next poll (within half a second) with the others, instead
of one relay round per page."""


@dataclass(frozen=True)
class SenderTuning:
    """How the sender paces itself; the defaults suit production."""

    per_number_interval_s: float = 1.0
    """At most one SMS (and, separately, one call) per this many seconds per sending number."""
    request_timeout_s: float = 10.0
    """A request to Twilio unanswered by then is abandoned as uncertain."""
    crash_margin_s: float = 30.0
    """A row `sending` this long past its request timeout was lost in a crash."""
    first_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    poll_interval_s: float = 1.0
    """How often an idle loop looks for work nothing woke it for: pages queued by another
    process (this process's own commits wake it at once, and a page queued for later after a
    429 is woken for when it is due)."""
    sweep_interval_s: float = 1.0
    contact_log_sweep_interval_s: float = 60.0
    """How often the SMS sender ends the contact-log exchanges left unanswered
    (`contact_log_expiry`): expiry is also checked whenever a phone's exchanges are touched, so
    this only decides how late a phone that never texts again is asked its next one. Expired
    phone confirmation codes are deleted at the same pace (they stop working at 72 hours
    whenever they are deleted)."""
    ring_timeout_s: int = 30
    in_flight: int = 4
    """Claims being sent at once per channel: Twilio answers in tens of milliseconds or more,
    so several requests are in flight (each page is still claimed by exactly one)."""
    claim_batch: int = 20
    """At most this many pages claimed and sent together (when the number's rate allows)."""


def webhook_url(settings: Settings, path: str) -> str:
    return f"{str(settings.public_url).rstrip('/')}{path}"


def kept_unsent_event(row: SendingRow, *, code: str | None, at: datetime) -> MessageKeptUnsent:
    """What the console's test phones are told of a row kept unsent: the SMS's body, or the
    words the call would say (a call's row holds `call_script.call_say_text`)."""
    return MessageKeptUnsent(
        occurred_at=at,
        page_id=row.id,
        kind=row.kind,
        channel="sms" if row.channel == "sms" else "call",
        agency=row.agency,
        incident_id=row.incident_id,
        assignment_id=row.assignment_id,
        phone=row.phone,
        code=code,
        text=row.body,
    )


@dataclass(frozen=True, slots=True)
class _Pause:
    seconds: float
    wake_on_queued: bool = True
    """Whether a newly queued page ends the pause (not while the number is busy)."""


_GO_ON = _Pause(0.0)


class PageSender:
    def __init__(
        self,
        *,
        channel: str,
        sessions: SessionFactory,
        topics: Topics,
        clock: Clock,
        settings: Settings,
        pager: Pager | None,
        tuning: SenderTuning | None = None,
        queued: CommitSignal | None = None,
    ) -> None:
        """`queued`, set when a transaction that queued pages of `channel` commits, wakes the
        loop at once."""
        if channel not in ("sms", "call"):
            raise ValueError("channel is sms or call")
        self._channel = channel
        self._sessions = sessions
        self._topics = topics
        self._clock = clock
        self._settings = settings
        self._pager = pager
        self._tuning = tuning or SenderTuning()
        self._slot = f"{channel}:{settings.twilio_from or 'none'}"
        self._last_sweep = -math.inf
        self._last_contact_log_sweep = -math.inf
        self._queued = queued
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claim_statement = claim_statement(
            sender=self._slot, channel=channel, limit=self._batch_allowed()
        )
        self._overdue = overdue_rows_statement(channel=channel, limit=SWEEP_BATCH)
        self._overdue_probe = overdue_probe(channel=channel)
        self._queued_rows = queued_rows_statement(channel=channel, limit=SWEEP_BATCH)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; a database outage is waited out. Claims in flight are
        recorded before it returns."""
        backoff = FIRST_RETRY_S
        try:
            while not stop.is_set():
                try:
                    pause = await self.step()
                    backoff = FIRST_RETRY_S
                except Exception as error:
                    if not is_transient(error):
                        raise
                    log.warning("page sender failed; retrying", extra={"error": repr(error)})
                    backoff = min(backoff * 2, 5.0)
                    pause = _Pause(backoff)
                if pause.seconds > 0:
                    await self._pause(stop, pause)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def step(self) -> _Pause:
        """Sweep if it is time, then claim once and start sending what was claimed; returns
        how long to pause before the next step."""
        tuning = self._tuning
        if time.monotonic() - self._last_sweep >= tuning.sweep_interval_s:
            await self.sweep()
            self._last_sweep = time.monotonic()
        if (
            self._channel == "sms"
            and time.monotonic() - self._last_contact_log_sweep
            >= tuning.contact_log_sweep_interval_s
        ):
            await self._expire_contact_logs()
        if self._pager is None:
            return _GO_ON if await self._keep_unsent() else _Pause(tuning.poll_interval_s)
        while len(self._in_flight) >= tuning.in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        claimed = await self._claim()
        if claimed.sending:
            self._start_sending(self._pager, claimed.sending)
        now = self._clock.now()
        idle = tuning.poll_interval_s
        if claimed.next_due_at is not None:  # a page queued for later: wake when it is due
            idle = max(0.0, min(idle, (claimed.next_due_at - now).total_seconds()))
        if 0 < claimed.taken < self._batch_allowed():
            return _Pause(idle)  # nothing else is due: wait for new pages
        busy_s = (claimed.slot_free_at - now).total_seconds()
        if busy_s > 0:
            return _Pause(min(tuning.poll_interval_s, busy_s), wake_on_queued=False)
        return _GO_ON if claimed.taken else _Pause(idle)

    async def _pause(self, stop: asyncio.Event, pause: _Pause) -> None:
        if pause.wake_on_queued and self._queued is not None:
            await self._queued.wait(stop, pause.seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause.seconds)

    # -- claiming -------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _autocommitting(self) -> AsyncIterator[AsyncSession]:
        """A session on which each statement commits by itself: no BEGIN and no COMMIT round
        trips, for the statements that need no transaction around them."""
        async with self._sessions() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session

    async def _claim(self) -> Claimed:
        """Claim as many due pages as the number's rate allows in one committed statement
        (`sending_rows.claim_statement`), then settle the claimed rows that must not be sent,
        if any, in a transaction of their own."""
        tuning = self._tuning
        now = self._clock.now()
        async with self._autocommitting() as session:
            claimed = await claim(
                session,
                self._claim_statement,
                sender=self._slot,
                now=now,
                sending_until=now
                + timedelta(seconds=tuning.request_timeout_s + tuning.crash_margin_s),
                slot_step=timedelta(seconds=tuning.per_number_interval_s),
            )
        if claimed.unsendable_ids:
            await self._settle_unsendable(claimed.unsendable_ids)
        return claimed

    async def _settle_unsendable(self, ids: list[uuid.UUID]) -> None:
        """Settle the claimed rows that must not be sent (closed, too late, opted out)."""
        async with unit_of_work(self._sessions) as session:
            now = self._clock.now()
            settled = [
                settles
                for row, opted_out in await locked_queued_rows(session, ids)
                if (settles := unsendable(row, now=now, opted_out=opted_out)) is not None
            ]
            await self._write(session, [s.row for s in settled], settled, now=now)
            await session.commit()

    def _batch_allowed(self) -> int:
        """How many pages one claim may take: one at a time for a slow number (a long code's
        one a second), up to `claim_batch` when the number's rate is high."""
        interval = self._tuning.per_number_interval_s
        if interval <= 0:
            return self._tuning.claim_batch
        return max(1, min(self._tuning.claim_batch, int(0.1 / interval)))

    # -- sending --------------------------------------------------------------------------
    def _start_sending(self, pager: Pager, pages: list[SendingRow]) -> None:
        task = asyncio.create_task(self._send_and_record(pager, pages))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send_and_record(self, pager: Pager, pages: list[SendingRow]) -> None:
        """Send the claimed pages together, then record every answer in one statement. When
        the record fails the pages stay `sending`, and the sweep settles them as uncertain."""
        try:
            results = await asyncio.gather(*(self._send(pager, page) for page in pages))
            await self._record(list(zip(pages, results, strict=True)))
        except Exception as error:
            if not is_transient(error):
                log.exception("recording sent pages failed", extra={"pages": len(pages)})
                return
            log.warning(
                "recording sent pages failed; they will be settled as uncertain",
                extra={"error": repr(error), "pages": len(pages)},
            )

    async def _send(self, pager: Pager, page: SendingRow) -> SendResult:
        status_url = webhook_url(self._settings, f"/v1/twilio/status?page={page.id}")
        if page.channel == "sms":
            validity = (page.send_deadline - self._clock.now()).total_seconds()
            if page.kind == PageKind.PAGE:
                validity = self._settings.sms_ack_timeout_s
            result = await pager.send_sms(
                SmsRequest(
                    to=page.phone,
                    body=page.body,
                    status_callback=status_url,
                    validity_period_s=max(1, min(MAX_VALIDITY_PERIOD_S, math.ceil(validity))),
                )
            )
        else:
            result = await pager.place_call(
                CallRequest(
                    to=page.phone,
                    twiml_url=webhook_url(self._settings, f"/v1/twilio/voice?page={page.id}"),
                    status_callback=status_url,
                    ring_timeout_s=self._tuning.ring_timeout_s,
                )
            )
        SEND_ATTEMPTS.labels(page.channel, type(result).__name__.lower()).inc()
        return result

    async def _record(self, sent: list[tuple[SendingRow, SendResult]]) -> None:
        """Every answer of one claim in one statement, committed by itself
        (`sending_rows.record_answers`)."""
        tuning = self._tuning
        now = self._clock.now()
        answers: list[Answer] = []
        notes: dict[uuid.UUID, Settled] = {}
        for page, result in sent:
            settles = answered(
                page,
                result,
                now=now,
                first_backoff_s=tuning.first_backoff_s,
                max_backoff_s=tuning.max_backoff_s,
            )
            report = None
            if settles.outcome is not None:
                report = outcome_event(
                    settles.row, outcome=settles.outcome, at=now, detail=settles.detail
                )
            answers.append(Answer(settles.row, report=report, opts_out=settles.opts_out))
            notes[page.id] = settles
        async with self._autocommitting() as session:
            recorded = await record_answers(session, answers, topics=self._topics, at=now)
            if any(event.outcome not in PUBLISHED_AT_LEISURE for event in recorded.reported):
                await flag_outbox_written(session)
            await session.commit()  # no round trip: it only wakes the relay
        count_reported(recorded.reported)
        for page_id in recorded.ids:
            self._log(notes[page_id])

    async def _write(
        self,
        session: AsyncSession,
        rows: Sequence[SendingRow],
        settled: Sequence[Settled],
        *,
        now: datetime,
    ) -> None:
        """Write the rows (locked by the caller) with the outcomes of the settled ones,
        logging what they say."""
        reports = []
        for settles in settled:
            self._log(settles)
            if settles.outcome is not None:
                event = outcome_event(
                    settles.row, outcome=settles.outcome, at=now, detail=settles.detail
                )
                if event is not None:
                    reports.append(event)
        await write_rows(session, rows, topics=self._topics, reports=reports)

    @staticmethod
    def _log(settles: Settled) -> None:
        if settles.note is None:
            return
        level, message = settles.note
        log.log(
            level,
            message,
            extra={
                "page_id": str(settles.row.id),
                "kind": settles.row.kind,
                "channel": settles.row.channel,
                "error": settles.detail,
            },
        )

    # -- sweeping -------------------------------------------------------------------------
    async def sweep(self) -> bool:
        """Settle the rows a crash left `sending`, and the queued rows past their deadline:
        one statement when there are none."""
        now = self._clock.now()
        async with self._autocommitting() as session:
            if not await session.scalar(self._overdue_probe, {"now": now}):
                return False
        async with unit_of_work(self._sessions) as session:
            rows = await read_rows(session, self._overdue, now=now)
            if not rows:
                return False
            settled = [swept(row) for row in rows]
            await self._write(session, [s.row for s in settled], settled, now=now)
            await session.commit()
            return True

    async def _expire_contact_logs(self) -> None:
        """End the contact-log exchanges left unanswered (`contact_log_expiry`) and the phone
        confirmation codes (`phone_confirmations`). A failure other than the database's being
        away is logged and waits for the next round: it must never stop the pages."""
        try:
            now = self._clock.now()
            await expire_overdue_exchanges(
                self._sessions, now=now, public_url=str(self._settings.public_url)
            )
            await expire_overdue_codes(self._sessions, now=now)
        except Exception as error:
            if is_transient(error):
                raise
            log.exception("ending the contact-log exchanges or codes left unanswered failed")
        self._last_contact_log_sweep = time.monotonic()

    # -- without Twilio -------------------------------------------------------------------
    async def _keep_unsent(self) -> bool:
        """Mark the queued rows `not_sent`, log each, and tell the console's test phones
        (`MessageKeptUnsent`), in one transaction."""
        async with unit_of_work(self._sessions) as session:
            queued = await queued_rows_with_codes(session, self._queued_rows)
            if not queued:
                return False
            now = self._clock.now()
            rows = [row for row, _ in queued]
            for row in rows:
                NOT_SENT.labels(row.channel).inc()
                log.warning(
                    "page not sent: Twilio is not configured",
                    extra={
                        "page_id": str(row.id),
                        "kind": row.kind,
                        "channel": row.channel,
                        "agency": row.agency,
                        "incident_id": str(row.incident_id) if row.incident_id else None,
                        "member_id": row.member_id,
                        "to": row.phone,
                        "text": row.body,
                    },
                )
            unsent = [replace(row, state=SendState.NOT_SENT.value) for row in rows]
            await write_rows(session, unsent, topics=self._topics)
            await write_events(
                session,
                self._topics,
                *(kept_unsent_event(row, code=code, at=now) for row, code in queued),
            )
            await session.commit()
            return True
