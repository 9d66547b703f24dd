"""Twilio's webhooks (CONTRACT §7): inbound SMS, the call's TwiML and keypress, status callbacks.

Thin routes: check `X-Twilio-Signature` over PST_PUBLIC_URL + path (+ query) with the SDK's
`RequestValidator` (403 when missing or wrong, and always when no auth token is configured),
read the form, call one handler, answer TwiML. They depend only on the `ServiceRuntime` in
`app.state.runtime`, so the intake web process can serve them too (the local stack's one port).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from services.notifier.delivery_status import StatusCallback, handle_status
from services.notifier.inbound_sms import InboundSms, handle_inbound_sms
from services.notifier.voice import handle_voice
from shared.errors import Forbidden, InvalidInput
from shared.runtime import ServiceRuntime
from shared.settings import Settings

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML_MEDIA_TYPE = "application/xml"
MAX_FORM_BYTES = 64 * 1024
SIGNED: dict[int | str, dict[str, Any]] = {
    403: {"description": "missing or wrong X-Twilio-Signature"}
}


class BadTwilioSignature(Forbidden):
    """The request does not carry a valid Twilio signature."""


def public_url_of(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as Twilio saw it: PST_PUBLIC_URL + path (+ query)."""
    url = f"{str(settings.public_url).rstrip('/')}{request.url.path}"
    return f"{url}?{request.url.query}" if request.url.query else url


async def signed_form(request: Request, settings: Settings) -> dict[str, str]:
    """The request's form fields, once its signature is checked."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not settings.twilio_auth_token:
        raise BadTwilioSignature("Twilio is not configured here: its webhooks are refused")
    if not signature:
        raise BadTwilioSignature(f"{SIGNATURE_HEADER} is missing")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise BadTwilioSignature("the request is not one Twilio sends")
    try:
        fields = dict(parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as error:
        raise BadTwilioSignature("the request is not one Twilio sends") from error
    validator = RequestValidator(settings.twilio_auth_token)
    if not validator.validate(public_url_of(settings, request), fields, signature):
        raise BadTwilioSignature(f"{SIGNATURE_HEADER} does not match this request")
    return fields


def _page_id(request: Request) -> uuid.UUID | None:
    value = request.query_params.get("page")
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise InvalidInput("page must be a page id") from error


def _twiml(xml: str) -> Response:
    return Response(content=xml, media_type=TWIML_MEDIA_TYPE)


def webhook_router() -> APIRouter:
    router = APIRouter(prefix="/v1/twilio", tags=["twilio"])

    @router.post(
        "/sms",
        summary="Inbound SMS: a reply to a page, STOP/START, or help",
        response_class=Response,
        responses=SIGNED,
    )
    async def inbound_sms(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        reply = await handle_inbound_sms(
            InboundSms(
                message_sid=form.get("MessageSid", ""),
                from_number=form.get("From", ""),
                body=form.get("Body", ""),
            ),
            sessions=runtime.sessions,
            topics=runtime.topics,
            clock=runtime.clock,
        )
        response = MessagingResponse()
        if reply:
            response.message(reply)
        return _twiml(str(response.to_xml()))

    @router.post(
        "/voice",
        summary="The page call's TwiML, and the key pressed",
        response_class=Response,
        responses=SIGNED,
    )
    async def voice(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        twiml = await handle_voice(
            page_id=_page_id(request),
            digits=form.get("Digits"),
            call_sid=form.get("CallSid"),
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
        responses=SIGNED,
    )
    async def status(request: Request) -> Response:
        runtime: ServiceRuntime = request.app.state.runtime
        form = await signed_form(request, runtime.settings)
        is_message = "MessageStatus" in form
        await handle_status(
            StatusCallback(
                page_id=_page_id(request),
                sid=(form.get("MessageSid") if is_message else form.get("CallSid")) or None,
                status=form.get("MessageStatus") or form.get("CallStatus") or "",
                error_code=form.get("ErrorCode") or None,
            ),
            sessions=runtime.sessions,
            topics=runtime.topics,
            clock=runtime.clock,
        )
        return Response(status_code=204)

    return router
