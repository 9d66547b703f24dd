"""Malformed Twilio webhooks to the local stack's web process are refused with a 4xx that says
what is wrong, and change nothing stored.

Every request here is one mistake away from a well-formed one that would change something (an
SMS "YES 4821" accepts the open page, the keypress 1 accepts the call, "delivered" moves the
page): `test_the_same_requests_well_formed_are_taken` shows those are taken. Where the point is
to get past the signature check, the request is signed correctly, as Twilio signs it. The
notifier's own process, which serves the webhooks in a split deployment, bounds bodies itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from tests.integration.bad_input.conftest import (
    CALL_SID,
    PAGE_CODE,
    SERVICE_NUMBER,
    SMS_SID,
    SPECIALIST_PHONE,
    TWILIO_ACCOUNT_SID,
    LiveService,
)

FORM = "application/x-www-form-urlencoded"
COMMON = {"AccountSid": TWILIO_ACCOUNT_SID, "ApiVersion": "2010-04-01"}
SMS = COMMON | {
    "MessageSid": "SM" + "a" * 32,
    "SmsSid": "SM" + "a" * 32,
    "From": SPECIALIST_PHONE,
    "To": SERVICE_NUMBER,
    "Body": f"YES {PAGE_CODE}",
    "NumMedia": "0",
}
KEYPRESS = COMMON | {
    "CallSid": CALL_SID,
    "From": SERVICE_NUMBER,
    "To": SPECIALIST_PHONE,
    "CallStatus": "in-progress",
    "Direction": "outbound-api",
    "Digits": "1",
}
DELIVERED = COMMON | {
    "MessageSid": SMS_SID,
    "SmsSid": SMS_SID,
    "From": SERVICE_NUMBER,
    "To": SPECIALIST_PHONE,
    "MessageStatus": "delivered",
    "SmsStatus": "delivered",
}
WELL_FORMED = {"sms": SMS, "voice": KEYPRESS, "status": DELIVERED}


def path_of(web: LiveService, kind: str, page: uuid.UUID | str | None = None) -> str:
    """The webhook's path as the notifier gives it to Twilio (the call's and the SMS page's)."""
    if kind == "sms":
        return "/v1/twilio/sms"
    default = web.call_page_id if kind == "voice" else web.sms_page_id
    return f"/v1/twilio/{kind}?page={page or default}"


async def post(
    client: httpx.AsyncClient, url: str, body: bytes, content_type: str, signature: str | None
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await client.post(url, content=body, headers=headers)


# -- not signed for exactly this request: 403 -----------------------------------------------------
Forgery = Callable[[LiveService, str, dict[str, str]], tuple[str, dict[str, str], str | None]]


def _unsigned(web: LiveService, url: str, form: dict[str, str]) -> tuple[str, dict[str, str], None]:
    return url, form, None


def _garbage(web: LiveService, url: str, form: dict[str, str]) -> tuple[str, dict[str, str], str]:
    return url, form, "bm90IGEgc2lnbmF0dXJl"


def _huge(web: LiveService, url: str, form: dict[str, str]) -> tuple[str, dict[str, str], str]:
    return url, form, "A" * 8000


def _another_token(
    web: LiveService, url: str, form: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    return url, form, str(RequestValidator("another-auth-token").compute_signature(url, form))


def _another_host(
    web: LiveService, url: str, form: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    elsewhere = url.replace(web.url, "https://pst.example.org")
    return url, form, web.twilio_signature(elsewhere, form)


def _another_page(
    web: LiveService, url: str, form: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    """Signed for this page, sent for another one (the query is signed too)."""
    other = url.split("?")[0] + f"?page={uuid.uuid4()}"
    return other, form, web.twilio_signature(url, form)


def _tampered(web: LiveService, url: str, form: dict[str, str]) -> tuple[str, dict[str, str], str]:
    changed = dict(form, From="+18165550199", Digits="2", MessageStatus="failed")
    return url, {k: changed[k] for k in form}, web.twilio_signature(url, form)


def _field_added(
    web: LiveService, url: str, form: dict[str, str]
) -> tuple[str, dict[str, str], str]:
    return url, form | {"ErrorCode": "30008"}, web.twilio_signature(url, form)


FORGERIES: dict[str, Forgery] = {
    "no signature": _unsigned,
    "a wrong signature": _garbage,
    "an 8 KB signature": _huge,
    "signed with another auth token": _another_token,
    "signed for another host": _another_host,
    "signed for another page": _another_page,
    "a field changed after signing": _tampered,
    "a field added after signing": _field_added,
}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("kind", ["sms", "voice", "status"])
async def test_a_request_not_signed_for_exactly_itself_is_403_and_changes_nothing(
    module_web: LiveService, kind: str, forgery: str
) -> None:
    url, form, signature = FORGERIES[forgery](
        module_web, module_web.url + path_of(module_web, kind), WELL_FORMED[kind]
    )
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await module_web.unchanged_by(
            lambda: post(client, url, urlencode(form).encode(), FORM, signature)
        )
    assert answer.status_code == 403, answer.text
    assert "X-Twilio-Signature" in answer.json()["detail"]


# -- signed, but not what Twilio sends: 4xx naming the fault --------------------------------------
@dataclass(frozen=True)
class Malformed:
    kind: str
    status: int
    names: str
    """what the answer's detail must name"""
    changes: dict[str, str | None] = field(default_factory=dict)
    """fields set (None: removed) in the well-formed form"""
    page: str | None = None
    raw: bytes | None = None
    """a body sent instead of the form (signed over what the service parses of it)"""
    content_type: str = FORM


def _unknown_page() -> str:
    return str(uuid.uuid4())


MALFORMED: dict[str, Malformed] = {
    # the body is not a form
    "JSON instead of a form": Malformed(
        "sms", 415, "form", raw=json.dumps(SMS).encode(), content_type="application/json"
    ),
    "a form sent as text/plain": Malformed(
        "sms", 415, "form", raw=urlencode(SMS).encode(), content_type="text/plain"
    ),
    "JSON to the voice webhook": Malformed(
        "voice", 415, "form", raw=json.dumps(KEYPRESS).encode(), content_type="application/json"
    ),
    "a body that is not UTF-8": Malformed("sms", 403, "Twilio", raw=b"Body=\xff\xfe&From=%2B1"),
    "a body over 64 KiB": Malformed("sms", 413, "64 KiB", {"Body": "Y" * 70_000}),
    "a status body over 64 KiB": Malformed("status", 413, "64 KiB", {"ErrorMessage": "x" * 70_000}),
    # inbound SMS
    "an SMS without From": Malformed("sms", 422, "From", {"From": None}),
    "an SMS without Body": Malformed("sms", 422, "Body", {"Body": None}),
    "an SMS without MessageSid": Malformed("sms", 422, "MessageSid", {"MessageSid": None}),
    "an SMS with an empty MessageSid": Malformed("sms", 422, "MessageSid", {"MessageSid": ""}),
    "an SMS from a national number": Malformed("sms", 422, "From", {"From": "8165550111"}),
    "an SMS from a spaced number": Malformed("sms", 422, "From", {"From": "+1 816 555 0111"}),
    "an SMS from WhatsApp": Malformed("sms", 422, "From", {"From": "whatsapp:+18165550111"}),
    "an SMS from Arabic-Indic digits": Malformed(
        "sms", 422, "From", {"From": "+1" + "".join(chr(0x0660 + int(d)) for d in "8165550111")}
    ),
    "an SMS from a number with a NUL": Malformed("sms", 422, "From", {"From": "+181655501\x00"}),
    "an SMS from a 5,000-digit number": Malformed("sms", 422, "From", {"From": "+1" * 2500}),
    "an SMS with a 5,000-character sid": Malformed(
        "sms", 422, "MessageSid", {"MessageSid": "SM" * 2500}
    ),
    "an SMS with a NUL in its sid": Malformed("sms", 422, "MessageSid", {"MessageSid": "SM1\x00"}),
    "an SMS of 1,601 characters": Malformed("sms", 422, "Body", {"Body": "Y" * 1601}),
    "an SMS of 60 KB": Malformed("sms", 422, "Body", {"Body": "YES " * 15_000}),
    # the call
    "a keypress without CallSid": Malformed("voice", 422, "CallSid", {"CallSid": None}),
    "a keypress with a 5,000-character CallSid": Malformed(
        "voice", 422, "CallSid", {"CallSid": "CA" * 2500}
    ),
    "a keypress with a NUL in its CallSid": Malformed(
        "voice", 422, "CallSid", {"CallSid": "CA\x00"}
    ),
    "33 keys pressed": Malformed("voice", 422, "Digits", {"Digits": "1" * 33}),
    "a key that is no key": Malformed("voice", 422, "Digits", {"Digits": "1\x00"}),
    "a keypress for a page id that is no id": Malformed("voice", 422, "page", page="4821"),
    "a keypress for an unknown page": Malformed("voice", 404, "page", page="unknown"),
    # status callbacks
    "a status for an unknown page": Malformed("status", 404, "page", page="unknown"),
    "a status for a page id that is no id": Malformed("status", 422, "page", page="x" * 300),
    "an unknown message status": Malformed(
        "status", 422, "exploded", {"MessageStatus": "exploded"}
    ),
    "a call's status for an SMS page": Malformed(
        "status", 422, "ringing", {"MessageStatus": "ringing"}
    ),
    "a status without its sid": Malformed("status", 422, "MessageSid", {"MessageSid": None}),
    "a status with a 5,000-character sid": Malformed(
        "status", 422, "MessageSid", {"MessageSid": "SM" * 2500}
    ),
    "a status callback without a status": Malformed(
        "status", 422, "MessageStatus or CallStatus", {"MessageStatus": None}
    ),
    "a 5,000-character error code": Malformed(
        "status", 422, "ErrorCode", {"MessageStatus": "failed", "ErrorCode": "3" * 5000}
    ),
    "an error code with a NUL": Malformed(
        "status", 422, "ErrorCode", {"MessageStatus": "failed", "ErrorCode": "30008\x00"}
    ),
}


def _request(web: LiveService, case: Malformed) -> tuple[str, bytes, str]:
    """The URL, body and signature of `case`: signed correctly, as Twilio would sign it."""
    page = _unknown_page() if case.page == "unknown" else case.page
    url = web.url + path_of(web, case.kind, page)
    if case.raw is not None:
        try:
            parsed = dict(parse_qsl(case.raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            parsed = {}
        return url, case.raw, web.twilio_signature(url, parsed)
    form = {
        name: value
        for name, value in (WELL_FORMED[case.kind] | case.changes).items()
        if value is not None
    }
    return url, urlencode(form).encode(), web.twilio_signature(url, form)


@pytest.mark.parametrize("name", MALFORMED)
async def test_a_signed_but_malformed_request_is_refused_naming_the_fault(
    module_web: LiveService, name: str
) -> None:
    case = MALFORMED[name]
    url, body, signature = _request(module_web, case)
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await module_web.unchanged_by(
            lambda: post(client, url, body, case.content_type, signature)
        )
    assert answer.status_code == case.status, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert case.names in answer.json()["detail"]


async def test_the_same_requests_well_formed_are_taken(web: LiveService) -> None:
    """The control: each well-formed request the cases above spoil changes what they must not."""
    async with httpx.AsyncClient(timeout=30) as client:

        async def send(kind: str, form: dict[str, str]) -> httpx.Response:
            url, body = web.url + path_of(web, kind), urlencode(form).encode()
            return await post(client, url, body, FORM, web.twilio_signature(url, form))

        status = await send("status", DELIVERED)
        assert status.status_code == 204, status.text
        assert (await web.page(web.sms_page_id)).twilio_status == "delivered"

        script = await send("voice", {k: v for k, v in KEYPRESS.items() if k != "Digits"})
        assert script.status_code == 200, script.text
        assert "<Gather" in script.text

        reply = await send("sms", SMS)
        assert reply.status_code == 200, reply.text
        assert f"you accepted page {PAGE_CODE}" in reply.text
        assert (await web.page(web.sms_page_id)).answer == "accepted"

        too_late = await send("voice", KEYPRESS)
        assert too_late.status_code == 200
        assert "already been answered" in too_late.text


@pytest.mark.parametrize("service", ["notifier"], indirect=True)
async def test_the_notifiers_own_process_reads_no_more_than_64_kib_of_a_webhook(
    service: LiveService,
) -> None:
    """In a split deployment the notifier serves the webhooks alone, without intake's limit on
    bodies: its routes stop reading at 64 KiB, signed or not (the signature covers the body)."""
    url = service.url + path_of(service, "sms")
    form = SMS | {"Body": "Y" * 70_000}
    async with httpx.AsyncClient(timeout=30) as client:
        signed = await service.unchanged_by(
            lambda: post(
                client, url, urlencode(form).encode(), FORM, service.twilio_signature(url, form)
            )
        )
        ten_megabytes = await service.unchanged_by(
            lambda: post(client, url, b"Body=" + b"Y" * 10_000_000, FORM, "bm90IGEgc2lnbmF0dXJl")
        )
    for answer in (signed, ten_megabytes):
        assert answer.status_code == 413, answer.text
        assert "64 KiB" in answer.json()["detail"]
