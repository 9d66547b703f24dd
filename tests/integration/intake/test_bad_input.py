"""Bad input always gets a clear 4xx naming what is wrong, and changes nothing stored."""

from __future__ import annotations

import json

import pytest

from tests.integration.intake.conftest import Intake, bearer
from tests.integration.intake.reports import kcmo_death


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"event": "riot"}, "event"),
        ({"occurred_at": "2026-11-20T22:14:00"}, "occurred_at"),
        ({"occurred_at": "2026-11-21T05:06:00Z"}, "occurred_at"),
        ({"pursuit": "true"}, "pursuit"),
        ({"additional_specialists": 11}, "additional_specialists"),
        ({"external_id": "x" * 65}, "external_id"),
        ({"agency": "nowhere"}, "agency"),
        ({"persons": [{"kind": "member", "outcome": "dead"}]}, "persons.0"),
        ({"location": {"lat": 91, "lon": 0}}, "location.lat"),
    ],
)
async def test_an_invalid_field_is_named(
    intake: Intake, change: dict[str, object], field: str
) -> None:
    token = await intake.token("kcmo", "commander")
    answer = await intake.client.post(
        "/v1/incidents", json=kcmo_death() | change, headers=bearer(token)
    )
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["detail"]
    assert await intake.outbox() == []


async def test_no_or_a_bad_token_is_401(intake: Intake) -> None:
    missing = await intake.client.post("/v1/incidents", json=kcmo_death())
    wrong = await intake.client.post(
        "/v1/incidents", json=kcmo_death(), headers=bearer("pst_not-a-real-token")
    )
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["WWW-Authenticate"] == "Bearer"


async def test_not_json_is_refused(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    form = await intake.client.post(
        "/v1/incidents",
        content=b"event=other",
        headers=bearer(token) | {"Content-Type": "text/plain"},
    )
    assert form.status_code == 415
    broken = await intake.client.post(
        "/v1/incidents",
        content=b'{"agency": ',
        headers=bearer(token) | {"Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert "JSON" in broken.json()["detail"]
    array = await intake.client.post("/v1/incidents", json=[1, 2], headers=bearer(token))
    assert array.status_code == 422


async def test_a_body_over_64_kib_is_413(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    body = json.dumps(kcmo_death() | {"summary": "x" * 70_000}).encode()
    answer = await intake.client.post(
        "/v1/incidents",
        content=body,
        headers=bearer(token) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert "64 KiB" in answer.json()["detail"]


async def test_the_largest_valid_report_is_accepted(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    persons = [{"kind": "public", "outcome": "injury"} for _ in range(199)]
    report = kcmo_death() | {"summary": "s" * 2000, "persons": kcmo_death()["persons"] + persons}
    assert len(json.dumps(report)) < 64 * 1024
    answer = await intake.client.post("/v1/incidents", json=report, headers=bearer(token))
    assert answer.status_code == 202, answer.text


async def test_a_token_is_rate_limited_with_retry_after(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    burst = int(intake.settings.token_rate_per_s * 3)
    statuses = []
    for number in range(burst + 5):
        answer = await intake.client.post(
            "/v1/incidents", json=kcmo_death(f"KC-RATE-{number}"), headers=bearer(token)
        )
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert "too many requests" in answer.json()["detail"]
            break
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {202}
    other = await intake.token("kcmo", "commander", name="another commander")
    assert (
        await intake.client.post(
            "/v1/incidents", json=kcmo_death("KC-RATE-X"), headers=bearer(other)
        )
    ).status_code == 202
