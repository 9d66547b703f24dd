"""schemathesis over every endpoint of each service process, bounded in examples: whatever it
sends, positive or negative, the answer is never a 5xx.

- the local stack's web process (intake's routes, the notifier's Twilio webhooks, the probes),
  with a coordinator's bearer token, the webhooks unsigned;
- the same process with every Twilio webhook and CAD webhook it generates signed correctly, so
  the fuzzing reaches past the signature checks into the handlers (often with a number on the
  roster, a page that is open, a reply word, the agency whose secret signed it);
- the dispatcher's and the notifier's own processes (the notifier serves the webhooks too in a
  split deployment, so they are fuzzed there signed as well).

Each runs as `pst serve` runs it, on a database and topics of its own. (`schemathesis.pytest
.from_fixture` does not work with pytest 9 here: the cases come from `operation.as_strategy()`
drawn by hypothesis directly, sent with `requests`, and checked with schemathesis's own
`not_a_server_error`.)
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import hypothesis
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from services.intake.cad_signature import signature_header
from services.notifier.webhook_openapi import FORM_MEDIA_TYPE
from tests.integration.bad_input.conftest import (
    OTHER_SPECIALIST_PHONE,
    PAGE_CODE,
    SPECIALIST_PHONE,
    LiveService,
)

EXAMPLES_PER_OPERATION = 30
TWILIO_PATHS = {"/v1/twilio/sms", "/v1/twilio/voice", "/v1/twilio/status"}
CAD_PATH = "/v1/cad/{agency}/events"
PROBES = {"/healthz", "/readyz", "/metrics"}
WEB_OPERATIONS = {
    "POST /v1/incidents",
    f"POST {CAD_PATH}",
    "GET /v1/incidents/{incident_id}",
    "PUT /v1/agencies/{agency}/roster",
    "POST /v1/incidents/{incident_id}/approvals",
    *(f"POST {path}" for path in TWILIO_PATHS),
    *(f"GET {path}" for path in PROBES),
}
FORM_FIELDS = {
    "/v1/twilio/sms": ["MessageSid", "From", "Body"],
    "/v1/twilio/voice": ["CallSid", "Digits"],
    "/v1/twilio/status": ["MessageSid", "MessageStatus", "CallSid", "CallStatus", "ErrorCode"],
}
"""The fields of Twilio's forms the webhooks' OpenAPI description must give schemathesis"""
REPLIES = ["YES", "no", f"YES {PAGE_CODE}", f"2 {PAGE_CODE}", "YES 0000", "STOP", "START", "HELP"]

Answers = Counter[tuple[str, int]]
"""(operation, status): how many"""
Prepare = Callable[[schemathesis.Case, st.DataObject], None]  # type: ignore[type-arg]


def fuzz(
    service: LiveService,
    *,
    paths: set[str] | None = None,
    headers: dict[str, str] | None = None,
    prepare: Prepare | None = None,
    sign: Callable[[requests.PreparedRequest], None] | None = None,
) -> Answers:
    """Fuzz the operations of `service`'s OpenAPI document (those on `paths`, or all): each
    case drawn positive or negative, changed by `prepare`, sent signed by `sign`."""
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    answers: Answers = Counter()
    session = requests.Session()
    for operation in operations:
        if paths is not None and operation.path not in paths:
            continue
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @hypothesis.given(case=cases, data=st.data())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            database=None,
        )
        def never_5xx(case: schemathesis.Case, data: st.DataObject) -> None:  # type: ignore[type-arg]
            if prepare is not None:
                prepare(case, data)
            sent = case.as_transport_kwargs(base_url=service.url, headers=headers)
            request = requests.Request(
                **{
                    k: sent[k]
                    for k in ("method", "url", "headers", "params", "data", "json")
                    if k in sent
                },
                cookies=sent.get("cookies"),
            ).prepare()
            if isinstance(request.body, str):  # requests would send it as ISO-8859-1
                request.prepare_body(request.body.encode(), None)
            if sign is not None:
                sign(request)
            response = session.send(request, timeout=30)
            answers[(f"{case.method} {case.path}", response.status_code)] += 1
            case.validate_response(response, checks=[not_a_server_error])

        never_5xx()
    return answers


def body_of(request: requests.PreparedRequest) -> bytes:
    body = request.body or b""
    assert isinstance(body, bytes), type(body)
    return body


def signer(service: LiveService) -> Callable[[requests.PreparedRequest], None]:
    """Signs a Twilio webhook as Twilio does (over the URL as sent and the form the service
    parses) and a CAD webhook as the path agency's CAD system does (over the raw body)."""

    def sign(request: requests.PreparedRequest) -> None:
        url = str(request.url)
        path = url.removeprefix(service.url).split("?")[0]
        body = body_of(request)
        if path in TWILIO_PATHS:
            try:
                form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                form = {}
            request.headers["X-Twilio-Signature"] = service.twilio_signature(url, form)
        elif path.startswith("/v1/cad/"):
            agency = path.split("/")[3]
            secret = service.cad_secrets.get(agency, service.cad_secrets["kcmo"])
            request.headers["X-PST-Signature"] = signature_header(secret, int(time.time()), body)

    return sign


def aimed(service: LiveService) -> Prepare:
    """Most of the time, aim a generated case at what is stored: the agency whose secret signs
    it and a recent time for a report, the stored incident, an open page, a roster number and
    a reply word. (Hypothesis draws the first of `sampled_from` most often.)"""
    pages = [str(service.sms_page_id), str(service.call_page_id)]

    def prepare(case: schemathesis.Case, data: st.DataObject) -> None:  # type: ignore[type-arg]
        if not data.draw(st.sampled_from([True, True, False]), label="aimed"):
            return
        body = case.body if isinstance(case.body, dict) else None
        parameters = dict(case.path_parameters or {})
        if "agency" in parameters:
            parameters["agency"] = data.draw(st.sampled_from(["kcmo", "kck"]), label="agency")
        if "incident_id" in parameters and service.incident_id is not None:
            parameters["incident_id"] = service.incident_id
        case.path_parameters = parameters
        if body is not None and case.path in ("/v1/incidents", CAD_PATH):
            minutes = data.draw(st.integers(0, 60 * 24 * 30), label="minutes ago")
            body["occurred_at"] = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
            body["agency"] = parameters.get("agency", "kcmo")
            body.setdefault("external_id", f"KC-FUZZ-{minutes}")
        if case.path in ("/v1/twilio/voice", "/v1/twilio/status"):
            case.query = (case.query or {}) | {"page": data.draw(st.sampled_from(pages))}
        if body is not None and case.path == "/v1/twilio/sms":
            body["From"] = data.draw(st.sampled_from([SPECIALIST_PHONE, OTHER_SPECIALIST_PHONE]))
            body["Body"] = data.draw(st.sampled_from(REPLIES), label="reply")

    return prepare


def described_fields(schema: dict[str, Any]) -> set[str]:
    """The form fields a request body's schema describes (an object, or any of several)."""
    alternatives = schema.get("anyOf", [schema])
    return {name for alternative in alternatives for name in alternative.get("properties", {})}


def failures_of_signing(answers: Answers) -> Answers:
    """Answers that refused a signature: none, when every request is signed correctly."""
    return Counter(
        {
            (operation, status): count
            for (operation, status), count in answers.items()
            if (status == 403 and "twilio" in operation) or (status == 401 and "cad" in operation)
        }
    )


def reached(answers: Answers, operation: str) -> int:
    """How many answers to `operation` were a success: the request got through every check."""
    return sum(n for (op, status), n in answers.items() if op == operation and status < 300)


async def test_no_request_makes_the_web_process_answer_5xx(web: LiveService) -> None:
    async with httpx.AsyncClient(base_url=web.url) as client:
        document = (await client.get("/openapi.json")).json()
    for path, required in FORM_FIELDS.items():
        body = document["paths"][path]["post"]["requestBody"]["content"]
        assert set(required) <= set(described_fields(body[FORM_MEDIA_TYPE]["schema"])), path

    answers = await asyncio.to_thread(
        fuzz, web, headers={"Authorization": f"Bearer {web.coordinator}"}, prepare=aimed(web)
    )
    assert {operation for operation, _ in answers} >= WEB_OPERATIONS, "every route, fuzzed"
    assert sum(answers.values()) >= len(WEB_OPERATIONS) * EXAMPLES_PER_OPERATION // 2


async def test_signed_webhooks_reach_the_handlers_and_never_5xx(web: LiveService) -> None:
    answers = await asyncio.to_thread(
        fuzz, web, paths=TWILIO_PATHS | {CAD_PATH}, prepare=aimed(web), sign=signer(web)
    )
    assert not failures_of_signing(answers), answers
    for path in (*TWILIO_PATHS, CAD_PATH):
        assert reached(answers, f"POST {path}"), f"nothing got through to {path}: {answers}"


@pytest.mark.parametrize("service", ["dispatcher", "notifier"], indirect=True)
async def test_no_request_makes_the_dispatcher_or_notifier_answer_5xx(
    service: LiveService,
) -> None:
    answers = await asyncio.to_thread(fuzz, service, prepare=aimed(service), sign=signer(service))
    operations = {operation for operation, _ in answers}
    assert {f"GET {path}" for path in PROBES} <= operations
    if service.name == "notifier":
        assert {f"POST {path}" for path in TWILIO_PATHS} <= operations
        assert not failures_of_signing(answers), answers
