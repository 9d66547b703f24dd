"""The one door to Twilio: a small port (`Pager`) and its implementation over the twilio SDK's
async client, with the one call point that classifies every error.

Twilio's own retries are off (the SDK's retry client resends a POST on any 5xx, which could page
a specialist twice). Our policy instead, per request:
- 429 (too many requests), or a connection that was never made: `RetryLater`; the sender
  backs off and tries again while the page's send deadline allows.
- 5xx, a timeout, a connection dropped after the request went out, an unreadable answer:
  `Uncertain`; Twilio may have created the message, so it is never resent.
- 21610 (the recipient replied STOP): `Unsubscribed`.
- any other 4xx (21211 invalid number, ...): `Refused`, permanent.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from services.notifier.page_states import UNSUBSCRIBED_RECIPIENT
from shared.settings import Settings

TOO_MANY_REQUESTS = 429


@dataclass(frozen=True, slots=True)
class SmsRequest:
    to: str
    body: str
    status_callback: str
    validity_period_s: int


@dataclass(frozen=True, slots=True)
class CallRequest:
    to: str
    twiml_url: str
    status_callback: str
    ring_timeout_s: int


@dataclass(frozen=True, slots=True)
class Accepted:
    """Twilio created the message or call."""

    sid: str


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Twilio did not create it and asked us to slow down (or was never reached)."""

    detail: str
    after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Uncertain:
    """Twilio may or may not have created it: never resend."""

    detail: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A permanent error: the same request would fail again."""

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    """The recipient opted out of SMS from this number (Twilio error 21610)."""

    detail: str


SendResult = Accepted | RetryLater | Uncertain | Refused | Unsubscribed


class Pager(Protocol):
    """What the sender needs from a telephony vendor."""

    async def send_sms(self, request: SmsRequest) -> SendResult: ...

    async def place_call(self, request: CallRequest) -> SendResult: ...

    async def close(self) -> None: ...


_retry_after: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "twilio_retry_after", default=None
)


class _HeaderKeepingHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async HTTP client (no retries), keeping the last answer's Retry-After header
    for the task that made the request: the SDK's exception does not carry headers."""

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        response = await super().request(*args, **kwargs)
        headers = response.headers or {}
        _retry_after.set(headers.get("Retry-After"))
        return response


def classify_error(error: BaseException, *, retry_after: str | None = None) -> SendResult:
    """What a failed request means for the page (see the module's docstring)."""
    if isinstance(error, TwilioRestException | TwilioServiceException):
        status = int(error.status)
        code = str(error.code) if error.code is not None else str(status)
        message = str(getattr(error, "msg", None) or getattr(error, "title", "") or "")
        if status == TOO_MANY_REQUESTS:
            return RetryLater(f"Twilio answered 429 ({code})", _seconds(retry_after))
        if status >= 500:
            return Uncertain(f"Twilio answered {status} ({code})")
        if code == UNSUBSCRIBED_RECIPIENT:
            return Unsubscribed(f"{code}: {message}"[:500])
        return Refused(code, f"{code}: {message}"[:500])
    if isinstance(error, TimeoutError):
        return Uncertain("no answer from Twilio in time")
    if isinstance(error, aiohttp.ClientConnectorError):
        return RetryLater(f"could not connect to Twilio: {type(error).__name__}")
    return Uncertain(f"request to Twilio broke: {type(error).__name__}")


def _seconds(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class TwilioPager:
    """`Pager` over the twilio SDK's async client, pointed at `PST_TWILIO_API_BASE`."""

    def __init__(self, settings: Settings, *, request_timeout_s: float = 10.0) -> None:
        if not settings.twilio_configured or settings.twilio_from is None:
            raise ValueError("Twilio is not configured")
        self._http = _HeaderKeepingHttpClient(max_retries=None)
        self._client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token, http_client=self._http
        )
        self._client.api.base_url = str(settings.twilio_api_base).rstrip("/")
        self._from = settings.twilio_from
        self._timeout_s = request_timeout_s

    async def send_sms(self, request: SmsRequest) -> SendResult:
        return await self._create(
            lambda: self._client.messages.create_async(
                to=request.to,
                from_=self._from,
                body=request.body,
                status_callback=request.status_callback,
                validity_period=request.validity_period_s,
            )
        )

    async def place_call(self, request: CallRequest) -> SendResult:
        return await self._create(
            lambda: self._client.calls.create_async(
                to=request.to,
                from_=self._from,
                url=request.twiml_url,
                method="POST",
                status_callback=request.status_callback,
                status_callback_method="POST",
                status_callback_event=["completed"],
                timeout=request.ring_timeout_s,
            )
        )

    async def _create(self, create: Callable[[], Awaitable[Any]]) -> SendResult:
        """The one call point: every request to Twilio goes through here."""
        _retry_after.set(None)
        try:
            async with asyncio.timeout(self._timeout_s):
                instance = await create()
        except Exception as error:
            return classify_error(error, retry_after=_retry_after.get())
        sid = getattr(instance, "sid", None)
        if not sid:
            return Uncertain("Twilio's answer carried no sid")
        return Accepted(str(sid))

    async def close(self) -> None:
        await self._http.close()
