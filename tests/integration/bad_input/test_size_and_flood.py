"""The largest report the contract allows is taken once and stored intact; a flood of tiny bad
requests is answered, every one, with the right 4xx, and leaves the service ready and taking
reports."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.intake.models import Incident
from shared.db.unit_of_work import unit_of_work
from shared.incident_report import MAX_PERSONS, IncidentReport
from shared.outbox.models import OutboxMessage
from tests.integration.bad_input.conftest import (
    SPECIALIST_PHONE,
    LiveService,
    bearer,
    report,
)

MAX_BODY_BYTES = 64 * 1024
FLOOD = 2000


def largest_report(external_id: str) -> bytes:
    """A report at every limit of the contract (200 persons, a 2,000-character summary, a
    500-character address, a 64-character CAD number), pretty-printed to exactly 64 KiB."""
    members = [
        {
            "kind": "member",
            "member_id": f"M{number:063d}",
            "outcome": "serious_bodily_injury" if number % 2 else "none",
            "on_duty": number % 3 != 0,
        }
        for number in range(MAX_PERSONS // 2)
    ]
    others = [
        {"kind": "public", "outcome": "death"}
        if number % 2
        else {"kind": "family", "member_id": f"M{number:063d}", "outcome": "serious_illness"}
        for number in range(MAX_PERSONS - len(members))
    ]
    occurred = datetime.now(UTC) - timedelta(minutes=10)
    summary = ("Pursuit ended on Grand Blvd; 🚓 units on scene. " * 50)[:2000]
    address = ("12th St & Grand Blvd 🚓 " * 25)[:500]
    assert (len(summary), len(address)) == (2000, 500)
    value = {
        "agency": "kcmo",
        "external_id": external_id,
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "location": {
            "lat": 39.0997,
            "lon": -94.5786,
            "address": address,
        },
        "summary": summary,
        "event": "vehicle_pursuit",
        "department_vehicle": True,
        "pursuit": True,
        "weapon_discharged": True,
        "tactical_team_deployed": True,
        "persons": members + others,
        "requested_by_commander": True,
        "consent_given": True,
    }
    compact = json.dumps(value).encode()
    assert len(compact) < MAX_BODY_BYTES
    return compact[:-1] + b" " * (MAX_BODY_BYTES - len(compact)) + b"}"


async def stored_reports(web: LiveService, external_id: str) -> tuple[list[Any], list[Any]]:
    """The incidents stored under `external_id`, and the outbox events announcing them."""
    async with unit_of_work(web.sessions) as session:
        incidents = list(
            await session.scalars(
                select(Incident.report).where(Incident.external_id == external_id)
            )
        )
        events = [
            payload["report"]
            for payload in await session.scalars(select(OutboxMessage.payload))
            if payload.get("report", {}).get("external_id") == external_id
        ]
    return incidents, events


@pytest.mark.parametrize("via", ["token", "cad"])
async def test_the_largest_report_is_taken_once_and_stored_intact(
    module_web: LiveService, via: str
) -> None:
    external_id = f"KC-{via.upper()}-" + "9" * (64 - 4 - len(via))
    body = largest_report(external_id)
    assert len(body) == MAX_BODY_BYTES

    async with httpx.AsyncClient(base_url=module_web.url, timeout=30) as client:

        def send(content: bytes) -> Awaitable[httpx.Response]:
            if via == "cad":
                return client.post(
                    "/v1/cad/kcmo/events", content=content, headers=module_web.cad_headers(content)
                )
            headers = bearer(module_web.commander) | {"Content-Type": "application/json"}
            return client.post("/v1/incidents", content=content, headers=headers)

        first = await send(body)
        assert first.status_code == 202, first.text
        again = await send(body)
        assert again.status_code == 200, again.text
        assert again.json()["incident_id"] == first.json()["incident_id"]
        assert again.json()["result"] == "unchanged"
        one_byte_more = await module_web.unchanged_by(lambda: send(body[:-1] + b" }"))
        assert one_byte_more.status_code == 413
        assert "64 KiB" in one_byte_more.json()["detail"]

    sent = IncidentReport.model_validate_json(body).model_dump(mode="json")
    incidents, events = await stored_reports(module_web, external_id)
    assert incidents == [sent], "stored once, every field as sent"
    assert events == [sent], "announced once, every field as sent"
    assert len(sent["persons"]) == MAX_PERSONS


def _flood_requests(web: LiveService) -> list[tuple[int, Callable[[httpx.AsyncClient], Any]]]:
    """Kinds of tiny bad request, each with the status it must get: bodies of a few bytes,
    some answered before the database is asked, some after (tokens, CAD secrets, pages)."""
    cad_body = b"{}"
    no_from = {"MessageSid": "SM" + "c" * 32, "Body": "YES"}
    sms_url = f"{web.url}/v1/twilio/sms"

    def status_request(client: httpx.AsyncClient) -> Any:
        url = f"{web.url}/v1/twilio/status?page={uuid.uuid4()}"
        form = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"}
        return client.post(
            url, data=form, headers={"X-Twilio-Signature": web.twilio_signature(url, form)}
        )

    json_type = {"Content-Type": "application/json"}
    return [
        (401, lambda c: c.post("/v1/incidents", content=b"{}", headers=json_type)),
        (
            401,
            lambda c: c.post(
                "/v1/incidents",
                content=b"{}",
                headers=json_type | bearer(f"pst_{uuid.uuid4().hex}"),
            ),
        ),
        (
            422,
            lambda c: c.post(
                "/v1/incidents", content=b"{}", headers=json_type | bearer(web.commander)
            ),
        ),
        (
            422,
            lambda c: c.post(
                "/v1/incidents", content=b"[", headers=json_type | bearer(web.commander)
            ),
        ),
        (415, lambda c: c.post("/v1/incidents", content=b"x", headers=bearer(web.commander))),
        (422, lambda c: c.get("/v1/incidents/not-an-id", headers=bearer(web.coordinator))),
        (
            401,
            lambda c: c.post(
                "/v1/cad/kcmo/events",
                content=cad_body,
                headers=json_type | {"X-PST-Signature": "t=1,v1=0"},
            ),
        ),
        (
            422,
            lambda c: c.post(
                "/v1/cad/kcmo/events", content=cad_body, headers=web.cad_headers(cad_body)
            ),
        ),
        (403, lambda c: c.post(sms_url, data=no_from)),
        (
            422,
            lambda c: c.post(
                sms_url,
                data=no_from,
                headers={"X-Twilio-Signature": web.twilio_signature(sms_url, no_from)},
            ),
        ),
        (404, status_request),
    ]


async def test_a_flood_of_tiny_bad_requests_is_answered_4xx_and_changes_nothing(
    module_web: LiveService,
) -> None:
    """2,000 requests, 200 in flight at once on 200 connections: 40 clients of 5 connections
    each (httpx's pool costs more per request the more it holds; one client of 200 would
    measure the client, not the server)."""
    kinds = _flood_requests(module_web)
    numbers = iter(range(FLOOD))

    async def client_of_five() -> list[tuple[int, int | str]]:
        limits = httpx.Limits(max_connections=5, max_keepalive_connections=5)
        async with httpx.AsyncClient(base_url=module_web.url, timeout=60, limits=limits) as client:

            async def sender() -> list[tuple[int, int | str]]:
                answers: list[tuple[int, int | str]] = []
                for number in numbers:
                    expected, request = kinds[number % len(kinds)]
                    try:
                        answers.append((expected, (await request(client)).status_code))
                    except httpx.TransportError as error:
                        answers.append((expected, repr(error)))
                return answers

            return [
                a
                for answered in await asyncio.gather(*(sender() for _ in range(5)))
                for a in answered
            ]

    before = await module_web.fingerprint()
    answers = [
        a
        for answered in await asyncio.gather(*(client_of_five() for _ in range(40)))
        for a in answered
    ]
    assert len(answers) == FLOOD
    wrong = Counter(answer for answer in answers if answer[0] != answer[1])
    assert not wrong, f"(expected, got): count: {wrong}"
    assert await module_web.fingerprint() == before, "the flood changed something stored"

    async with httpx.AsyncClient(base_url=module_web.url, timeout=30) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        valid = await client.post(
            "/v1/incidents", json=report("KC-26-AFTER-FLOOD"), headers=bearer(module_web.commander)
        )
        assert valid.status_code == 202, valid.text
        sms = await module_web.post_twilio(
            client,
            "/v1/twilio/sms",
            {"MessageSid": "SM" + "e" * 32, "From": SPECIALIST_PHONE, "Body": "YES 4821"},
        )
        assert "you accepted page 4821" in sms.text
