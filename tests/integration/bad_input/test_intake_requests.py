"""What the bearer-token routes must refuse at validation (a 422 naming the field) rather than
let the database refuse (a 500): text PostgreSQL cannot hold (U+0000), a moment before the year
1 in UTC, a phone number in another script's digits. Nothing stored changes. (The other faults
of these routes are in `tests/integration/intake/test_bad_input.py`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.integration.bad_input.conftest import LiveService, bearer, report

ARABIC_INDIC_PHONE = "+1" + "".join(chr(0x0660 + int(digit)) for digit in "8165550133")


def _specialist(**changes: Any) -> dict[str, Any]:
    return {
        "member_id": "S003",
        "name": "Specialist 3",
        "agency": "kcmo",
        "phone": "+18165550133",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
        "languages": ["en"],
    } | changes


Request = Callable[[httpx.AsyncClient, LiveService], Any]


def _report(**changes: Any) -> Request:
    """A change of the incident stored before the test (KC-26-BAD-1)."""
    return lambda client, web: client.post(
        "/v1/incidents", json=report() | changes, headers=bearer(web.commander)
    )


def _roster(**changes: Any) -> Request:
    return lambda client, web: client.put(
        "/v1/agencies/kcmo/roster", json=[_specialist(**changes)], headers=bearer(web.coordinator)
    )


def _approval(member_id: str) -> Request:
    return lambda client, web: client.post(
        f"/v1/incidents/{web.incident_id}/approvals",
        json={"member_id": member_id},
        headers=bearer(web.coordinator),
    )


REFUSED: dict[str, tuple[Request, str]] = {
    "a NUL in a report's summary": (_report(summary="shots\x00fired"), "summary"),
    "a NUL in a report's CAD number": (_report(external_id="KC-26-BAD-1\x00"), "external_id"),
    "a NUL in a report's address": (
        _report(location={"lat": 39.1, "lon": -94.6, "address": "\x00"}),
        "location.address",
    ),
    "a NUL in a person's member id": (
        _report(persons=[{"kind": "member", "member_id": "E\x00", "outcome": "death"}]),
        "persons.0.member_id",
    ),
    "a report from before the year 1 in UTC": (
        _report(occurred_at="0001-01-01T00:00:00+14:00"),
        "occurred_at",
    ),
    "a NUL in a specialist's member id": (_roster(member_id="S\x00"), "0.member_id"),
    "a NUL in a specialist's name": (_roster(name="Pat\x00Doe"), "0.name"),
    "a NUL in a specialist's language": (_roster(languages=["en\x00"]), "0.languages.0"),
    "a phone number in Arabic-Indic digits": (_roster(phone=ARABIC_INDIC_PHONE), "0.phone"),
    "a NUL in an approval's member id": (_approval("S\x00"), "member_id"),
}


@pytest.mark.parametrize("name", REFUSED)
async def test_what_the_database_cannot_store_is_refused_naming_the_field(
    module_web: LiveService, name: str
) -> None:
    request, field = REFUSED[name]
    async with httpx.AsyncClient(base_url=module_web.url, timeout=30) as client:
        answer = await module_web.unchanged_by(lambda: request(client, module_web))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(field), answer.json()["detail"]
