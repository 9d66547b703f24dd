"""Twilio's webhooks (CONTRACT §7): inbound SMS, the call's TwiML and keypress, status callbacks.

Thin routes: check `X-Twilio-Signature` over PST_PUBLIC_URL + path (+ query) with the SDK's
`RequestValidator` (403 when missing or wrong, and always when no auth token is configured),
read the form (413 over 64 KiB, 415 when it is not a form), check the fields the handlers rely
on (422 naming the field), call one handler, answer TwiML. They depend only on the
`ServiceRuntime` in `app.state.runtime`, so the intake web process can serve them too (the local
stack's one port). What Twilio posts is described in `webhook_openapi.py`.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.notifier.contact_logs import ExchangeSetup
from services.notifier.delivery_status import StatusCallback, handle_status
from services.notifier.inbound_sms import InboundSms, handle_inbound_sms
from services.notifier.voice import handle_voice
from services.notifier.webhook_openapi import (
    FORM_MEDIA_TYPE,
    MAX_SMS_BODY_CHARS,
    NO_SUCH_PAGE,
    REFUSED,
    SMS_FORM,
    STATUS_FORM,
    VOICE_FORM,
    form_body,
    page_parameter,
)
from shared.errors import Forbidden, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from shared.roster.entry import E164
from shared.runtime import ServiceRuntime
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.policy import AgencyRegistry

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML_MEDIA_TYPE = "application/xml"
MAX_FORM_BYTES = 64 * 1024
SID = re.compile(r"^[A-Za-z0-9]{1,64}$")
DIGITS = re.compile(r"^[0-9*#]{0,32}$")
ERROR_CODE = re.compile(r"^[0-9]{1,10}$")


class BadTwilioSignature(Forbidden):
    """The request does not carry a valid Twilio signature."""


def public_url_of(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as Twilio saw it: PST_PUBLIC_URL + path (+ query)."""
    url = f"{str(settings.public_url).rstrip('/')}{request.url.path}"
    return f"{url}?{request.url.query}" if request.url.query else url


async def _bounded_body(request: Request) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"request body is larger than {MAX_FORM_BYTES // 1024} KiB")
    return bytes(raw)


async def signed_form(request: Request, settings: Settings) -> dict[str, str]:
    """The request's form fields, once its signature is checked."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not settings.twilio_auth_token:
        raise BadTwilioSignature("Twilio is not configured here: its webhooks are refused")
    if not signature:
        raise BadTwilioSignature(f"{SIGNATURE_HEADER} is missing")
    raw = await _bounded_body(request)
    try:
        fields = dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as error:
        raise BadTwilioSignature("the request is not one Twilio sends") from error
    validator = RequestValidator(settings.twilio_auth_token)
    if not validator.validate(public_url_of(settings, request), fields, signature):
        raise BadTwilioSignature(f"{SIGNATURE_HEADER} does not match this request")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise UnsupportedMediaType(f"send the fields as a form ({FORM_MEDIA_TYPE})")
    return fields


def _field(
    form: dict[str, str], name: str, pattern: re.Pattern[str], meaning: str, *, required: bool
) -> str | None:
    """`form[name]` when it matches `pattern`; as given when empty or absent and not required."""
    value = form.get(name)
    if not value:
        if required:
            raise InvalidInput(f"{name}: required")
        return value
    if not pattern.fullmatch(value):
        raise InvalidInput(f"{name}: {meaning}")
    return value


def _page_id(request: Request) -> uuid.UUID | None:
    value = request.query_params.get("page")
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise InvalidInput("page must be a page id") from error


def _inbound_sms(form: dict[str, str]) -> InboundSms:
    sid = _field(form, "MessageSid", SID, "must be a Twilio message sid", required=True)
    sender = _field(form, "From", E164, "must be an E.164 number (+18165550100)", required=True)
    body = form.get("Body")
    if body is None:
        raise InvalidInput("Body: required")
    if len(body) > MAX_SMS_BODY_CHARS:
        raise InvalidInput(f"Body: at most {MAX_SMS_BODY_CHARS} characters")
    return InboundSms(message_sid=sid or "", from_number=sender or "", body=body)


def _status_callback(form: dict[str, str], page_id: uuid.UUID | None) -> StatusCallback:
    """A callback that names its page must carry its sid and status (the handler checks that
    the status is one of the page's channel); one without is looked up by its sid."""
    named = page_id is not None
    if "MessageStatus" in form:
        sid_field, status_field = "MessageSid", "MessageStatus"
    elif "CallStatus" in form or not named:
        sid_field, status_field = "CallSid", "CallStatus"
    else:
        raise InvalidInput("MessageStatus or CallStatus: required")
    sid = _field(form, sid_field, SID, "must be a Twilio sid", required=named)
    status = form.get(status_field) or ""
    if named and not status:
        raise InvalidInput(f"{status_field}: required")
    error_code = _field(
        form, "ErrorCode", ERROR_CODE, "must be Twilio's error number", required=False
    )
    return StatusCallback(
        page_id=page_id, sid=sid or None, status=status, error_code=error_code or None
    )


def _twiml(xml: str) -> Response:
    return Response(content=xml, media_type=TWIML_MEDIA_TYPE)


def webhook_router(registry: AgencyRegistry | None = None) -> APIRouter:
    """`registry`: the agencies of the process (a contact log counts in its agency's local
    month); without one the packaged agencies are loaded on first use."""
    router = APIRouter(prefix="/v1/twilio", tags=["twilio"])

    @router.post(
        "/sms",
        summary="Inbound SMS: a reply to a page, STOP/START, or help",
        response_class=Response,
        responses=REFUSED,
        openapi_extra={"requestBody": form_body(SMS_FORM)},
    )
    async def inbound_sms(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        reply = await handle_inbound_sms(
            _inbound_sms(form),
            sessions=runtime.sessions,
            topics=runtime.topics,
            clock=runtime.clock,
            setup=ExchangeSetup.of(runtime.settings, registry),
        )
        response = MessagingResponse()
        if reply:
            response.message(reply)
        return _twiml(str(response.to_xml()))

    @router.post(
        "/voice",
        summary="The page call's TwiML, and the key pressed",
        response_class=Response,
        responses=REFUSED | NO_SUCH_PAGE,
        openapi_extra={
            "parameters": [page_parameter(required=True)],
            "requestBody": form_body(VOICE_FORM),
        },
    )
    async def voice(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        page_id = _page_id(request)
        call_sid = _field(
            form, "CallSid", SID, "must be a Twilio call sid", required=page_id is not None
        )
        twiml = await handle_voice(
            page_id=page_id,
            digits=_field(form, "Digits", DIGITS, "must be the keys pressed", required=False),
            call_sid=call_sid,
            action_url=public_url_of(runtime.settings, request),
            sessions=runtime.sessions,
            topics=runtime.topics,
            clock=runtime.clock,
        )
        return _twiml(twiml)

    @router.post(
        "/status",
        summary="Delivery status of a page's SMS or call",
        status_code=204,
        response_class=Response,
        responses=REFUSED | NO_SUCH_PAGE,
        openapi_extra={
            "parameters": [page_parameter(required=False)],
            "requestBody": form_body(STATUS_FORM),
        },
    )
    async def status(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        await handle_status(
            _status_callback(form, _page_id(request)),
            sessions=runtime.sessions,
            topics=runtime.topics,
            clock=runtime.clock,
        )
        return Response(status_code=204)

    return router
