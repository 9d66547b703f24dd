"""POST /v1/cad/{agency}/events: HMAC-SHA256 over "<t>.<raw body>", 300 s either way."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from services.intake.cad_signature import signature_header
from services.intake.context import CAD_SECRET_CACHE_SECONDS
from services.intake.credentials import rotate_cad_secret
from shared.db.unit_of_work import unit_of_work
from tests.integration.intake.conftest import Intake
from tests.integration.intake.reports import kcmo_death


def _signed(secret: str, body: bytes, at: float) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-PST-Signature": signature_header(secret, int(at), body),
    }


async def test_a_signed_webhook_is_accepted_once(intake: Intake) -> None:
    secret = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()
    now = intake.clock.now().timestamp()
    first = await intake.client.post(
        "/v1/cad/kcmo/events", content=body, headers=_signed(secret, body, now)
    )
    assert first.status_code == 202, first.text
    # a replay of the very same signed request (a CAD retry, or someone replaying it)
    replay = await intake.client.post(
        "/v1/cad/kcmo/events", content=body, headers=_signed(secret, body, now)
    )
    assert replay.status_code == 200
    assert replay.json()["incident_id"] == first.json()["incident_id"]
    assert replay.json()["result"] == "unchanged"
    (event,) = await intake.outbox()
    assert event["payload"]["reporter"] == {
        "via": "cad",
        "role": "cad",
        "name": "CAD system (kcmo)",
    }


async def test_unsigned_wrong_key_and_tampered_webhooks_are_refused(intake: Intake) -> None:
    secret = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()
    now = intake.clock.now().timestamp()
    unsigned = await intake.client.post(
        "/v1/cad/kcmo/events", content=body, headers={"Content-Type": "application/json"}
    )
    wrong_key = await intake.client.post(
        "/v1/cad/kcmo/events", content=body, headers=_signed("cad_not-the-secret", body, now)
    )
    tampered = await intake.client.post(
        "/v1/cad/kcmo/events",
        content=body.replace(b"line_of_duty_death", b"other"),
        headers=_signed(secret, body, now),
    )
    garbled = await intake.client.post(
        "/v1/cad/kcmo/events",
        content=body,
        headers={"Content-Type": "application/json", "X-PST-Signature": "v1=abc"},
    )
    for answer in (unsigned, wrong_key, tampered, garbled):
        assert answer.status_code == 401, answer.text
        assert "X-PST-Signature" in answer.json()["detail"]
    assert await intake.outbox() == []


async def test_stale_and_future_signatures_are_refused(intake: Intake) -> None:
    secret = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()
    now = intake.clock.now().timestamp()
    for at in (now - 301, now + 301):
        answer = await intake.client.post(
            "/v1/cad/kcmo/events", content=body, headers=_signed(secret, body, at)
        )
        assert answer.status_code == 401
        assert "300 s" in answer.json()["detail"]
    within = await intake.client.post(
        "/v1/cad/kcmo/events", content=body, headers=_signed(secret, body, now - 299)
    )
    assert within.status_code == 202


async def test_a_replay_after_the_window_is_refused(intake: Intake) -> None:
    secret = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()
    headers = _signed(secret, body, intake.clock.now().timestamp())
    assert (
        await intake.client.post("/v1/cad/kcmo/events", content=body, headers=headers)
    ).status_code == 202
    intake.clock.advance(timedelta(minutes=6))
    replay = await intake.client.post("/v1/cad/kcmo/events", content=body, headers=headers)
    assert replay.status_code == 401


async def test_a_rotated_secret_keeps_the_old_one_valid_for_the_grace_period(
    intake: Intake,
) -> None:
    old = await intake.cad_secret("kcmo")
    new = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()

    def post_with(secret: str):  # type: ignore[no-untyped-def]
        return intake.client.post(
            "/v1/cad/kcmo/events",
            content=body,
            headers=_signed(secret, body, intake.clock.now().timestamp()),
        )

    assert (await post_with(old)).status_code in (200, 202)
    assert (await post_with(new)).status_code == 200
    intake.clock.advance(timedelta(hours=25))
    assert (await post_with(old)).status_code == 401
    assert (await post_with(new)).status_code == 200


async def test_secrets_are_read_at_most_every_few_seconds_yet_a_new_one_works_at_once(
    intake: Intake,
) -> None:
    old = await intake.cad_secret("kcmo")
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM cad_secrets" in statement:
            reads.append(statement)

    def post_with(secret: str, n: int):  # type: ignore[no-untyped-def]
        body = json.dumps(kcmo_death(f"KC-CACHE-{n}")).encode()
        return intake.client.post(
            "/v1/cad/kcmo/events",
            content=body,
            headers=_signed(secret, body, intake.clock.now().timestamp()),
        )

    event.listen(intake.engine.sync_engine, "before_cursor_execute", count)
    try:
        for n in range(5):
            assert (await post_with(old, n)).status_code == 202
        assert len(reads) == 1, "read once, then cached"
        async with unit_of_work(intake.sessions) as session:  # rotated out without grace
            new = await rotate_cad_secret(
                session, agency="kcmo", now=intake.clock.now(), grace=timedelta(0)
            )
            await session.commit()
        assert (await post_with(new, 10)).status_code == 202, "the new one at once"
        assert (await post_with(old, 11)).status_code == 401, "and the cache was refreshed"
        intake.clock.advance(timedelta(seconds=CAD_SECRET_CACHE_SECONDS + 1))
        assert (await post_with(old, 12)).status_code == 401
        assert (await post_with(new, 13)).status_code == 202
    finally:
        event.remove(intake.engine.sync_engine, "before_cursor_execute", count)


async def test_one_agencys_secret_does_not_sign_for_another(intake: Intake) -> None:
    kck_secret = await intake.cad_secret("kck")
    await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death()).encode()
    answer = await intake.client.post(
        "/v1/cad/kcmo/events",
        content=body,
        headers=_signed(kck_secret, body, intake.clock.now().timestamp()),
    )
    assert answer.status_code == 401
    cross = await intake.client.post(
        "/v1/cad/kck/events",
        content=body,
        headers=_signed(kck_secret, body, intake.clock.now().timestamp()),
    )
    assert cross.status_code == 403, "kck's CAD cannot report a kcmo incident"


async def test_a_cad_report_needs_its_incident_number(intake: Intake) -> None:
    secret = await intake.cad_secret("kcmo")
    body = json.dumps(kcmo_death(None)).encode()
    answer = await intake.client.post(
        "/v1/cad/kcmo/events",
        content=body,
        headers=_signed(secret, body, intake.clock.now().timestamp()),
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("external_id")


async def test_an_unknown_agency_is_404(intake: Intake) -> None:
    body = b"{}"
    answer = await intake.client.post(
        "/v1/cad/nowhere/events",
        content=body,
        headers=_signed("x", body, intake.clock.now().timestamp()),
    )
    assert answer.status_code == 404
