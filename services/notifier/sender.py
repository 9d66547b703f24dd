"""The sender loop: sends the queued pages of one channel (SMS or call) through the `Pager`.

Each step of a worker claims one due row with `FOR UPDATE SKIP LOCKED`, marks it `sending` and
commits before calling Twilio, then records the result in a new transaction: so a page is never sent
twice, by this process or another. A row still `sending` after its `sending_until` (the process
died mid-request) may or may not have reached Twilio: it becomes `uncertain`, never resent.

The sending number's rate (one message per `per_number_interval_s`, and the same for calls) is
a row per sending number and channel, locked while claiming: every notifier process shares it,
so the number is never carrier-blocked, and no handler sleeps for it.

Without Twilio credentials (`pager` None) due rows become `not_sent`, each logged once with its
text, and stay readable by the coordinators (`console.pages_not_sent`). Nothing is reported to
the dispatcher: its timers escalate as if the page went unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.notifier.metrics import NOT_SENT, SEND_ATTEMPTS
from services.notifier.models import NotifierPage, SenderSlot
from services.notifier.outcomes import report_outcome
from services.notifier.page_states import SMS_STATUS_RANK, PageKind, SendState
from services.notifier.pages import is_opted_out, record_opt_out
from services.notifier.twilio_port import (
    Accepted,
    CallRequest,
    Pager,
    Refused,
    RetryLater,
    SendResult,
    SmsRequest,
    Uncertain,
    Unsubscribed,
)
from shared.clock import Clock
from shared.db.commit_signals import CommitSignal
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import PageOutcome
from shared.kafka.topics import Topics
from shared.settings import Settings
from shared.transient_failures import is_transient

log = logging.getLogger(__name__)

MAX_VALIDITY_PERIOD_S = 36_000
TERMINAL_SMS_RANK = SMS_STATUS_RANK["delivered"]
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


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
    poll_interval_s: float = 0.2
    sweep_interval_s: float = 1.0
    ring_timeout_s: int = 30
    workers: int = 4
    claim_batch: int = 20
    """At most this many pages claimed and sent together (when the number's rate allows)."""
    """Sender loops per channel: Twilio answers in tens of milliseconds or more, so several
    requests are in flight at once (each page is still claimed by exactly one)."""


def webhook_url(settings: Settings, path: str) -> str:
    return f"{str(settings.public_url).rstrip('/')}{path}"


_OUTCOME_OF: dict[SendState, PageOutcome] = {
    SendState.UNCERTAIN: "send_uncertain",
    SendState.SEND_FAILED: "send_failed",
    SendState.OPTED_OUT: "opted_out",
}


@dataclass(frozen=True)
class _Claimed:
    page_id: uuid.UUID
    kind: str
    channel: str
    phone: str
    body: str
    send_deadline: datetime


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
        sweeps: bool = True,
    ) -> None:
        """`queued`, set when a transaction that queued pages commits, wakes the loop at once."""
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
        self._queued = queued
        self._sweeps = sweeps

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; a database outage is waited out."""
        backoff = self._tuning.poll_interval_s
        while not stop.is_set():
            try:
                worked = await self.step()
                backoff = self._tuning.poll_interval_s
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("page sender failed; retrying", extra={"error": repr(error)})
                worked = False
                backoff = min(backoff * 2, 5.0)
            if not worked:
                if self._queued is not None:
                    await self._queued.wait(stop, backoff)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)

    async def step(self) -> bool:
        """Sweep if it is time, then send what one claim took; True when something was done."""
        swept = False
        if self._sweeps and time.monotonic() - self._last_sweep >= self._tuning.sweep_interval_s:
            swept = await self.sweep()
            self._last_sweep = time.monotonic()
        if self._pager is None:
            return await self._keep_unsent() or swept
        claimed = await self._claim()
        if claimed is None:
            return swept
        if isinstance(claimed, list):
            pager = self._pager
            results = await asyncio.gather(*(self._send(pager, page) for page in claimed))
            for page, result in zip(claimed, results, strict=True):
                await self._record(page, result)
        return True

    # -- claiming -------------------------------------------------------------------------
    async def _claim(self) -> list[_Claimed] | bool | None:
        """The claimed pages (several at once when the sending number's rate allows: one
        lock of its slot and one commit for all of them); True when rows were settled without
        sending; None when idle or when the number must wait."""
        async with unit_of_work(self._sessions) as session:
            now = self._clock.now()
            slot = await self._locked_slot(session)
            if slot.next_free_at > now:
                return None
            rows = await self._locked_rows(
                session,
                SendState.QUEUED,
                NotifierPage.send_after <= now,
                order_by=(NotifierPage.send_after, NotifierPage.created_at),
                limit=self._batch_allowed(),
            )
            if not rows:
                return None
            claimed: list[_Claimed] = []
            for row in rows:
                if await self._settle_unsendable(session, row, now):
                    continue
                row.state = SendState.SENDING.value
                row.attempts += 1
                row.sending_until = now + timedelta(
                    seconds=self._tuning.request_timeout_s + self._tuning.crash_margin_s
                )
                claimed.append(
                    _Claimed(
                        page_id=row.id,
                        kind=row.kind,
                        channel=row.channel,
                        phone=row.phone,
                        body=row.body,
                        send_deadline=row.send_deadline,
                    )
                )
            if claimed:
                slot.next_free_at = now + timedelta(
                    seconds=self._tuning.per_number_interval_s * len(claimed)
                )
            await session.commit()
            return claimed or True

    def _batch_allowed(self) -> int:
        """How many pages one claim may take: one at a time for a slow number (a long code's
        one a second), up to `claim_batch` when the number's rate is high."""
        interval = self._tuning.per_number_interval_s
        if interval <= 0:
            return self._tuning.claim_batch
        return max(1, min(self._tuning.claim_batch, int(0.1 / interval)))

    async def _settle_unsendable(
        self, session: AsyncSession, row: NotifierPage, now: datetime
    ) -> bool:
        """Settle a claimed row that must not be sent (closed, too late, opted out)."""
        if row.closed_at is not None:
            row.state = SendState.CANCELLED.value
        elif row.send_deadline <= now:
            await self._expire(session, row, now, "not sent before its deadline")
        elif self._channel == "sms" and await is_opted_out(session, row.phone):
            row.state = SendState.OPTED_OUT.value
            log.info(
                "SMS not sent: the number has opted out",
                extra={"page_id": str(row.id), "kind": row.kind},
            )
            await report_outcome(
                session,
                self._topics,
                page=row,
                outcome="opted_out",
                at=now,
                detail="the number has opted out of SMS",
            )
        else:
            return False
        return True

    async def _locked_slot(self, session: AsyncSession) -> SenderSlot:
        await session.execute(
            insert(SenderSlot)
            .values(sender=self._slot, next_free_at=_EPOCH)
            .on_conflict_do_nothing()
        )
        slot = await session.scalar(
            select(SenderSlot).where(SenderSlot.sender == self._slot).with_for_update()
        )
        if slot is None:  # pragma: no cover - inserted just above
            raise RuntimeError("sender slot vanished")
        return slot

    # -- sending --------------------------------------------------------------------------
    async def _send(self, pager: Pager, claimed: _Claimed) -> SendResult:
        status_url = webhook_url(self._settings, f"/v1/twilio/status?page={claimed.page_id}")
        if claimed.channel == "sms":
            validity = (claimed.send_deadline - self._clock.now()).total_seconds()
            if claimed.kind == PageKind.PAGE:
                validity = self._settings.sms_ack_timeout_s
            result = await pager.send_sms(
                SmsRequest(
                    to=claimed.phone,
                    body=claimed.body,
                    status_callback=status_url,
                    validity_period_s=max(1, min(MAX_VALIDITY_PERIOD_S, math.ceil(validity))),
                )
            )
        else:
            result = await pager.place_call(
                CallRequest(
                    to=claimed.phone,
                    twiml_url=webhook_url(
                        self._settings, f"/v1/twilio/voice?page={claimed.page_id}"
                    ),
                    status_callback=status_url,
                    ring_timeout_s=self._tuning.ring_timeout_s,
                )
            )
        SEND_ATTEMPTS.labels(claimed.channel, type(result).__name__.lower()).inc()
        return result

    async def _record(self, claimed: _Claimed, result: SendResult) -> None:
        async with unit_of_work(self._sessions) as session:
            now = self._clock.now()
            row = await session.get(NotifierPage, claimed.page_id, with_for_update=True)
            if row is None:  # pragma: no cover - pages are never deleted
                return
            if row.state != SendState.SENDING:
                # swept as uncertain meanwhile: only keep the sid, for the callbacks
                if isinstance(result, Accepted) and row.twilio_sid is None:
                    row.twilio_sid = result.sid
                await session.commit()
                return
            row.sending_until = None
            match result:
                case Accepted(sid=sid):
                    row.state = SendState.SENT.value
                    row.sent_at = now
                    row.twilio_sid = row.twilio_sid or sid
                    if row.twilio_status_rank < TERMINAL_SMS_RANK or row.channel == "call":
                        await report_outcome(
                            session, self._topics, page=row, outcome="sent", at=now, detail=sid
                        )
                case RetryLater(detail=detail, after_s=after_s):
                    await self._retry_later(session, row, now, detail, after_s)
                case Uncertain(detail=detail):
                    log.warning(
                        "Twilio may or may not have the page; it is not resent",
                        extra={"page_id": str(row.id), "channel": row.channel, "error": detail},
                    )
                    await self._settle(session, row, now, SendState.UNCERTAIN, detail)
                case Refused(detail=detail):
                    log.warning(
                        "Twilio refused the page",
                        extra={"page_id": str(row.id), "channel": row.channel, "error": detail},
                    )
                    await self._settle(session, row, now, SendState.SEND_FAILED, detail)
                case Unsubscribed(detail=detail):
                    await record_opt_out(session, phone=row.phone, at=now)
                    await self._settle(session, row, now, SendState.OPTED_OUT, detail)
            await session.commit()

    async def _settle(
        self,
        session: AsyncSession,
        row: NotifierPage,
        now: datetime,
        state: SendState,
        detail: str,
    ) -> None:
        """End a page that Twilio did not (surely) take, and tell the dispatcher how."""
        row.state = state.value
        row.last_error = detail
        await report_outcome(
            session, self._topics, page=row, outcome=_OUTCOME_OF[state], at=now, detail=detail
        )

    async def _retry_later(
        self,
        session: AsyncSession,
        row: NotifierPage,
        now: datetime,
        detail: str,
        after_s: float | None,
    ) -> None:
        tuning = self._tuning
        backoff = min(tuning.max_backoff_s, tuning.first_backoff_s * 2 ** max(0, row.attempts - 1))
        retry_at = now + timedelta(seconds=max(backoff, after_s or 0.0))
        row.last_error = detail
        if retry_at >= row.send_deadline:
            await self._expire(session, row, now, f"not sent before its deadline: {detail}")
            return
        row.state = SendState.QUEUED.value
        row.send_after = retry_at

    async def _expire(
        self, session: AsyncSession, row: NotifierPage, now: datetime, detail: str
    ) -> None:
        """Twilio never took the page before its deadline: an SMS is reported as failed (the
        dispatcher calls instead), a call as a failure to send (it moves on)."""
        row.state = SendState.EXPIRED.value
        row.last_error = detail
        log.warning(
            "page expired unsent",
            extra={"page_id": str(row.id), "channel": row.channel, "error": detail},
        )
        await report_outcome(
            session,
            self._topics,
            page=row,
            outcome="delivery_failed" if row.channel == "sms" else "send_failed",
            at=now,
            detail=detail,
        )

    async def _locked_rows(
        self,
        session: AsyncSession,
        state: SendState,
        *conditions: ColumnElement[bool],
        order_by: tuple[InstrumentedAttribute[Any], ...] = (),
        limit: int = 100,
    ) -> Sequence[NotifierPage]:
        """This channel's rows in `state` meeting `conditions`, locked; rows another sender
        holds are skipped, never waited for."""
        return (
            await session.scalars(
                select(NotifierPage)
                .where(
                    NotifierPage.state == state.value,
                    NotifierPage.channel == self._channel,
                    *conditions,
                )
                .order_by(*order_by)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    # -- sweeping -------------------------------------------------------------------------
    async def sweep(self) -> bool:
        """Settle the rows a crash left `sending`, and the queued rows past their deadline."""
        async with unit_of_work(self._sessions) as session:
            now = self._clock.now()
            lost = await self._locked_rows(
                session, SendState.SENDING, NotifierPage.sending_until < now
            )
            for row in lost:
                row.sending_until = None
                await self._settle(
                    session, row, now, SendState.UNCERTAIN, "the notifier stopped while sending"
                )
            late = await self._locked_rows(
                session, SendState.QUEUED, NotifierPage.send_deadline <= now
            )
            for row in late:
                if row.closed_at is not None:
                    row.state = SendState.CANCELLED.value
                else:
                    await self._expire(session, row, now, "not sent before its deadline")
            await session.commit()
            return bool(lost or late)

    # -- without Twilio -------------------------------------------------------------------
    async def _keep_unsent(self) -> bool:
        async with unit_of_work(self._sessions) as session:
            rows = await self._locked_rows(
                session, SendState.QUEUED, order_by=(NotifierPage.created_at,)
            )
            for row in rows:
                row.state = SendState.NOT_SENT.value
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
            await session.commit()
            return bool(rows)
