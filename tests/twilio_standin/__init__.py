"""A Twilio stand-in for tests and benchmarks: see `server.py`; run alone with
`python -m tests.twilio_standin --port P --auth-token T --callback-base URL`."""

from tests.twilio_standin.server import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SERVICE_NUMBER,
    CallbackResponse,
    RecordedRequest,
    Reply,
    TwilioStandIn,
)

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_SERVICE_NUMBER",
    "CallbackResponse",
    "RecordedRequest",
    "Reply",
    "TwilioStandIn",
]
