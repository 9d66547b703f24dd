"""The OpenAPI description of Twilio's webhooks: the forms Twilio posts, which FastAPI cannot
infer because the routes read the raw form (its signature covers every field). Documents what
Twilio sends; the routes check only what they rely on (see `webhooks.py`)."""

from __future__ import annotations

from typing import Any

from services.notifier.page_states import CALL_STATUS_RANK, SMS_STATUS_RANK
from shared.roster.entry import E164

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_SMS_BODY_CHARS = 1600
"""Twilio's own limit on a message's body."""

_SID = {"pattern": "^[A-Z]{2}[0-9a-f]{32}$", "maxLength": 34}
_ERROR_CODE = {"pattern": "^[0-9]{0,10}$"}


def _text(description: str, **constraints: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **constraints}


_COMMON_FIELDS: dict[str, Any] = {
    "AccountSid": _text("the Twilio account (AC...)", pattern="^AC[0-9a-f]{32}$"),
    "From": _text("the sender, E.164", pattern=E164.pattern),
    "To": _text("the recipient, E.164", pattern=E164.pattern),
    "ApiVersion": _text("Twilio's API version", enum=["2010-04-01"]),
}


def _form(description: str, fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": _COMMON_FIELDS | fields,
        "required": required,
        "additionalProperties": {"type": "string"},
    }


def form_body(schema: dict[str, Any]) -> dict[str, Any]:
    """An `openapi_extra` requestBody: `schema`, form-encoded."""
    return {"required": True, "content": {FORM_MEDIA_TYPE: {"schema": schema}}}


def page_parameter(*, required: bool) -> dict[str, Any]:
    return {
        "name": "page",
        "in": "query",
        "required": required,
        "description": "the page's id, as the notifier gave it to Twilio in the callback URL",
        "schema": {"type": "string", "format": "uuid"},
    }


SMS_FORM = _form(
    "An SMS to the service's number: a reply to a page, STOP/START, or anything else",
    {
        "MessageSid": _text("the message's sid (SM...)", **_SID),
        "SmsSid": _text("the same sid, by its older name", **_SID),
        "Body": _text("the text", maxLength=MAX_SMS_BODY_CHARS),
        "NumMedia": _text("how many media files came with it", pattern="^[0-9]{1,2}$"),
        "NumSegments": _text("how many SMS segments it came in", pattern="^[0-9]{1,2}$"),
    },
    ["MessageSid", "From", "Body"],
)

VOICE_FORM = _form(
    "The page's call: answered (Twilio asks for the script), or a key pressed (`Digits`)",
    {
        "CallSid": _text("the call's sid (CA...)", **_SID),
        "CallStatus": _text("the call's status", enum=sorted(CALL_STATUS_RANK)),
        "Direction": _text("the call's direction", enum=["outbound-api"]),
        "Digits": _text("the keys pressed: 1 accepts, 2 declines", pattern="^[0-9*#]{0,32}$"),
        "FinishedOnKey": _text("the key that ended the input", pattern="^[0-9*#]?$"),
    },
    ["CallSid"],
)

STATUS_FORM: dict[str, Any] = {
    "anyOf": [
        _form(
            "The delivery status of a page's SMS",
            {
                "MessageSid": _text("the message's sid (SM...)", **_SID),
                "SmsSid": _text("the same sid, by its older name", **_SID),
                "MessageStatus": _text("its status", enum=sorted(SMS_STATUS_RANK)),
                "SmsStatus": _text("the same, by its older name", enum=sorted(SMS_STATUS_RANK)),
                "ErrorCode": _text("Twilio's error code, when it failed", **_ERROR_CODE),
            },
            ["MessageSid", "MessageStatus"],
        ),
        _form(
            "The status of a page's call",
            {
                "CallSid": _text("the call's sid (CA...)", **_SID),
                "CallStatus": _text("its status", enum=sorted(CALL_STATUS_RANK)),
                "CallDuration": _text("seconds the call lasted", pattern="^[0-9]{1,6}$"),
                "ErrorCode": _text("Twilio's error code, when it failed", **_ERROR_CODE),
            },
            ["CallSid", "CallStatus"],
        ),
    ]
}

REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "missing or wrong X-Twilio-Signature"},
    413: {"description": "body over 64 KiB"},
    415: {"description": f"the body is not a form ({FORM_MEDIA_TYPE})"},
    422: {"description": "a field Twilio always sends is missing or malformed; `detail` names it"},
}
NO_SUCH_PAGE: dict[int | str, dict[str, Any]] = {404: {"description": "no such page"}}
