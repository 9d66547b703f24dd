"""A CAD system as the fault test needs one: it sends signed incident webhooks and, like a real
one, resends the same report (same external_id, same body, a fresh signature) after a broken
connection, a timeout, a 429 or a 5xx, until it is answered 2xx or its deadline passes."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from services.intake.cad_signature import signature_header

MAX_BACKOFF_S = 2.0
MAX_RETRY_AFTER_S = 5.0


@dataclass
class SentReport:
    """One incident report and everything the service answered to it."""

    index: int
    external_id: str
    address: str
    involved_member_id: str
    body: bytes
    attempts: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    """How often each answer came: an HTTP status, or the name of a transport error."""
    incident_ids: set[str] = field(default_factory=set)
    """The incident_id of every 2xx answer (more than one would be a bug)."""
    refused: str | None = None
    """The body of a 4xx other than 429: the report itself was refused."""
    answered_at: datetime | None = None
    """When the first 2xx answer came (wall clock, UTC)."""

    @property
    def answered_2xx(self) -> bool:
        return bool(self.incident_ids)


def activating_report(
    index: int, *, agency: str, occurred_at: datetime, involved_member_id: str
) -> SentReport:
    """A line-of-duty death (kcmo 830 §III.E.1: 2 specialists) of roster member
    `involved_member_id`, who must therefore not be paged for it; its address is unique, so
    the SMS page that names it identifies the incident."""
    external_id = f"FI-{index:04d}"
    address = f"{external_id} Grand Blvd, Kansas City, MO"
    report: dict[str, Any] = {
        "agency": agency,
        "external_id": external_id,
        "occurred_at": occurred_at.isoformat(timespec="seconds"),
        "event": "line_of_duty_death",
        "persons": [
            {"kind": "member", "member_id": involved_member_id, "outcome": "death", "on_duty": True}
        ],
        "location": {"lat": 39.0997, "lon": -94.5786, "address": address},
    }
    return SentReport(
        index=index,
        external_id=external_id,
        address=address,
        involved_member_id=involved_member_id,
        body=json.dumps(report).encode(),
    )


@dataclass
class CadSystem:
    base_url: str
    agency: str
    secret: str
    rng: random.Random
    request_timeout_s: float = 5.0

    async def send_all(self, reports: list[SentReport], *, over_s: float, deadline: float) -> None:
        """Send the reports evenly over `over_s` seconds, each retried until answered 2xx
        (or refused) or until `deadline` (time.monotonic()); returns when all are done."""
        interval = over_s / max(1, len(reports))
        started = time.monotonic()
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with (
            httpx.AsyncClient(
                base_url=self.base_url, timeout=self.request_timeout_s, limits=limits
            ) as client,
            asyncio.TaskGroup() as group,
        ):
            for report in reports:
                delay = started + report.index * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                group.create_task(self._send(client, report, deadline))

    async def _send(self, client: httpx.AsyncClient, report: SentReport, deadline: float) -> None:
        backoff = 0.25
        path = f"/v1/cad/{self.agency}/events"
        while time.monotonic() < deadline:
            report.attempts += 1
            headers = {
                "Content-Type": "application/json",
                "X-PST-Signature": signature_header(self.secret, int(time.time()), report.body),
            }
            wait = backoff
            try:
                answer = await client.post(path, content=report.body, headers=headers)
            except httpx.TransportError as error:
                report.answers[type(error).__name__] += 1
            else:
                report.answers[str(answer.status_code)] += 1
                if 200 <= answer.status_code < 300:
                    report.incident_ids.add(str(answer.json()["incident_id"]))
                    report.answered_at = report.answered_at or datetime.now(UTC)
                    return
                if 400 <= answer.status_code < 500 and answer.status_code != 429:
                    report.refused = f"{answer.status_code} {answer.text[:300]}"
                    return
                retry_after = answer.headers.get("Retry-After")
                if retry_after is not None and retry_after.isdigit():
                    wait = min(float(retry_after), MAX_RETRY_AFTER_S)
            await asyncio.sleep(wait * (0.75 + self.rng.random() / 2))
            backoff = min(backoff * 2, MAX_BACKOFF_S)


def answer_counts(reports: list[SentReport]) -> Counter[str]:
    total: Counter[str] = Counter()
    for report in reports:
        total.update(report.answers)
    return total
