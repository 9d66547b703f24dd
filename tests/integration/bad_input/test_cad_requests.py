"""Malformed CAD webhooks to the local stack's web process are refused with a 4xx that says what
is wrong, and change nothing stored: not the incident already stored under the same CAD number,
nor anything else.

Each request is one mistake away from a well-formed one that would change the stored incident
(it re-reports KC-26-BAD-1 with a second death): the last test shows that one is taken.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.bad_input.conftest import LiveService, report

CHANGED = report(
    "KC-26-BAD-1",
    persons=[
        {"kind": "member", "member_id": "E1002", "outcome": "death", "on_duty": True},
        {"kind": "public", "outcome": "death"},
    ],
    summary="second death reported",
)


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


Headers = Callable[[LiveService, bytes], Mapping[str, str | bytes]]


@dataclass(frozen=True)
class Malformed:
    status: int
    names: str
    """what the answer's detail must name"""
    body: bytes = _body(CHANGED)
    agency: str = "kcmo"
    """the agency in the path"""
    headers: Headers | None = None
    """the request's headers; by default signed correctly with the path agency's secret"""


def _signature(value: str) -> Headers:
    """A signature header of `value` (sent as UTF-8)."""
    return lambda web, body: {"Content-Type": "application/json", "X-PST-Signature": value.encode()}


def _signed_as(content_type: str) -> Headers:
    return lambda web, body: web.cad_headers(body) | {"Content-Type": content_type}


def _signed_by(agency: str) -> Headers:
    return lambda web, body: web.cad_headers(body, agency=agency)


def _signed_at(offset_s: float) -> Headers:
    return lambda web, body: web.cad_headers(body, at=time.time() + offset_s)


def _signed_for_other_body(web: LiveService, body: bytes) -> dict[str, str]:
    return web.cad_headers(_body(report("KC-26-BAD-1")))


def _hmac_of_the_body_alone(web: LiveService, body: bytes) -> dict[str, str]:
    """The HMAC of the body without its "<t>." prefix: a CAD vendor's likely mistake."""
    digest = hmac.new(web.cad_secrets["kcmo"].encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-PST-Signature": f"t={int(time.time())},v1={digest}",
    }


MALFORMED: dict[str, Malformed] = {
    # the body
    "a signed body that is not JSON": Malformed(422, "JSON", body=b"event=other&agency=kcmo"),
    "a signed body cut short": Malformed(422, "JSON", body=_body(CHANGED)[:-10]),
    "a signed JSON array": Malformed(422, "object", body=_body([CHANGED])),
    "a signed JSON string": Malformed(422, "object", body=_body("KC-26-BAD-1")),
    "a signed empty body": Malformed(422, "JSON", body=b""),
    "a signed body that is not UTF-8": Malformed(422, "JSON", body=b'{"agency": "\xff\xfe"}'),
    "a signed body over 64 KiB": Malformed(
        413, "64 KiB", body=_body(CHANGED | {"summary": "x" * 70_000})
    ),
    "a report with an unknown field": Malformed(
        422, "surprise", body=_body(CHANGED | {"surprise": 1})
    ),
    "a report with a NUL in its summary": Malformed(
        422, "summary", body=_body(CHANGED | {"summary": "a\x00b"})
    ),
    "a report from before the year 1 in UTC": Malformed(
        422, "occurred_at", body=_body(CHANGED | {"occurred_at": "0001-01-01T00:00:00+14:00"})
    ),
    "a report without its CAD number": Malformed(
        422, "external_id", body=_body({k: v for k, v in CHANGED.items() if k != "external_id"})
    ),
    "a report of 201 persons": Malformed(
        422,
        "persons",
        body=_body(CHANGED | {"persons": [{"kind": "public", "outcome": "none"}] * 201}),
    ),
    # the content type
    "a report sent as text/plain": Malformed(
        415, "application/json", headers=_signed_as("text/plain")
    ),
    "a report sent as a form": Malformed(
        415, "application/json", headers=_signed_as("application/x-www-form-urlencoded")
    ),
    "a report without a content type": Malformed(415, "application/json", headers=_signed_as("")),
    # the signature
    "no signature": Malformed(
        401, "X-PST-Signature", headers=lambda web, body: {"Content-Type": "application/json"}
    ),
    "a garbage signature": Malformed(401, "X-PST-Signature", headers=_signature("garbage")),
    "a signature without its time": Malformed(
        401, "X-PST-Signature", headers=_signature("v1=" + "0" * 64)
    ),
    "a signature with a non-numeric time": Malformed(
        401, "X-PST-Signature", headers=_signature("t=soon,v1=" + "0" * 64)
    ),
    "a signature with a 20-digit time": Malformed(
        401, "X-PST-Signature", headers=_signature("t=" + "9" * 20 + ",v1=" + "0" * 64)
    ),
    "a signature with Arabic digits": Malformed(
        401, "X-PST-Signature", headers=_signature("t=\u0661\u0667" + "\u0660" * 8 + ",v1=0")
    ),
    "a signature with a superscript digit": Malformed(
        401, "X-PST-Signature", headers=lambda web, body: {"X-PST-Signature": b"t=\xb2,v1=0"}
    ),
    "a signature of 8 KB": Malformed(
        401, "X-PST-Signature", headers=_signature("t=1,v1=" + "a" * 8000)
    ),
    "an HMAC of the body alone": Malformed(401, "X-PST-Signature", headers=_hmac_of_the_body_alone),
    "a signature for another body": Malformed(
        401, "X-PST-Signature", headers=_signed_for_other_body
    ),
    "a signature ten minutes old": Malformed(401, "300 s", headers=_signed_at(-600)),
    "a signature ten minutes ahead": Malformed(401, "300 s", headers=_signed_at(600)),
    # the agency
    "kck's signature on kcmo's webhook": Malformed(
        401, "X-PST-Signature", headers=_signed_by("kck")
    ),
    "kcmo's report on kck's webhook": Malformed(
        403, "kck", agency="kck", headers=_signed_by("kck")
    ),
    "an agency that does not exist": Malformed(404, "nowhere", agency="nowhere"),
    "an agency in capitals": Malformed(404, "KCMO", agency="KCMO"),
}


def _headers(web: LiveService, case: Malformed) -> dict[bytes, bytes]:
    if case.headers is not None:
        given = case.headers(web, case.body)
    elif case.agency in web.cad_secrets:
        given = web.cad_headers(case.body, agency=case.agency)
    else:
        given = web.cad_headers(case.body)  # an agency with no secret: signed with kcmo's
    return {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in given.items()}


@pytest.mark.parametrize("name", MALFORMED)
async def test_a_malformed_cad_webhook_is_refused_naming_the_fault(
    module_web: LiveService, name: str
) -> None:
    case = MALFORMED[name]
    async with httpx.AsyncClient(base_url=module_web.url, timeout=30) as client:
        answer = await module_web.unchanged_by(
            lambda: client.post(
                f"/v1/cad/{case.agency}/events",
                content=case.body,
                headers=_headers(module_web, case),
            )
        )
    assert answer.status_code == case.status, answer.text
    assert case.names in answer.json()["detail"]


async def test_the_same_webhook_well_formed_is_taken(web: LiveService) -> None:
    body = _body(CHANGED)
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as client:
        answer = await client.post(
            "/v1/cad/kcmo/events", content=body, headers=web.cad_headers(body)
        )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["result"], answer.json()["incident_id"]) == ("updated", web.incident_id)
