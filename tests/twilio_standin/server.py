"""A Twilio stand-in: the Messages and Calls endpoints of the REST API, and the callbacks Twilio
makes to a service, over real HTTP on 127.0.0.1. (Design after GoAlert's devtools/mocktwilio;
our own code.)

- `POST /2010-04-01/Accounts/{Sid}/Messages.json` and `.../Calls.json`, HTTP Basic auth with the
  account sid and auth token (401 and Twilio's error 20003 otherwise), form fields checked as
  Twilio does for the few errors tests need (21604 no To, 21211 invalid To, 21602 no Body,
  21205 no Url). 201 with a Twilio-shaped resource (`SM...`/`CA...`, status `queued`).
- Every request is recorded, answered or not (`requests`, `messages`, `calls`).
- Errors on demand: `script("Messages", Reply.too_many_requests(), ...)` answers the next
  requests to that resource with the scripted replies, in order (429 with Retry-After, 5xx,
  400 with a code, or a hang of N seconds before answering).
- Errors at random, for fault injection: `chaos=Chaos(error_ratio=0.2, hang_ratio=0.05,
  hang_s=12, seed=7)` answers about a fifth of the unscripted requests 500 and lets about one in
  twenty hang `hang_s` seconds first, drawn from a seeded RNG; what each request drew is
  recorded (`RecordedRequest.chaos`).
- Callbacks, signed with `X-Twilio-Signature` as Twilio signs them (`RequestValidator` over the
  exact URL and the form): `send_status`, `send_inbound_sms`, `fetch_call_twiml`, `press_keys`.
  Status callbacks and call TwiML go to the URLs the service gave when it created the message
  or call; inbound SMS go to `{callback_base}/v1/twilio/sms`.
- A small control API under `/_standin/` for use from another process (benchmarks against
  `pst up`): see `__main__.py`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import logging
import random
import re
import secrets
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_SID = "AC" + "5" * 32
DEFAULT_AUTH_TOKEN = "standin-auth-token"
DEFAULT_SERVICE_NUMBER = "+15005550006"
API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

Resource = Literal["Messages", "Calls"]


@dataclass(frozen=True)
class Reply:
    """A scripted answer to one request: `status` (201 means create normally), a Twilio error
    `code` and `message`, a `Retry-After` header, and a hang of `delay_s` before answering."""

    status: int
    code: int | None = None
    message: str = ""
    retry_after: float | None = None
    delay_s: float = 0.0

    @classmethod
    def created(cls, *, delay_s: float = 0.0) -> Reply:
        return cls(201, delay_s=delay_s)

    @classmethod
    def too_many_requests(cls, retry_after: float | None = 1) -> Reply:
        return cls(429, 20429, "Too Many Requests", retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status, 20500, "Internal Server Error")

    @classmethod
    def invalid_number(cls) -> Reply:
        return cls(400, 21211, "The 'To' number is not a valid phone number.")

    @classmethod
    def unsubscribed(cls) -> Reply:
        return cls(400, 21610, "Attempt to send to unsubscribed recipient")

    @classmethod
    def hang(cls, seconds: float, then: int = 201) -> Reply:
        """Answer only after `seconds` (the client has usually given up by then); the resource
        is created all the same when `then` is 201, as Twilio may do."""
        return cls(then, delay_s=seconds)


@dataclass(frozen=True)
class Chaos:
    """Random faults on the Messages and Calls endpoints (scripted replies come first).

    Each unscripted request draws once from `random.Random(seed)`: with `error_ratio` it is
    answered `error_status` (a Twilio 20500; nothing is created), with `hang_ratio` it is answered
    only after `hang_s` seconds, then created as usual (as Twilio may do after the client gave
    up), otherwise it is answered at once. The same seed and the same order of requests give the
    same faults.
    """

    error_ratio: float = 0.0
    hang_ratio: float = 0.0
    hang_s: float = 15.0
    error_status: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        if self.error_ratio < 0 or self.hang_ratio < 0 or self.error_ratio + self.hang_ratio > 1:
            raise ValueError("error_ratio and hang_ratio are >= 0 and add up to at most 1")
        if self.hang_s < 0:
            raise ValueError("hang_s is >= 0")


ChaosDraw = Literal["error", "hang"]


@dataclass
class RecordedRequest:
    """One request to the REST API, as received, and what the stand-in answered (`chaos`: the
    random fault it drew, if any)."""

    resource: Resource
    form: dict[str, str]
    status: int = 0
    sid: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    chaos: ChaosDraw | None = None


@dataclass(frozen=True)
class CallbackResponse:
    """What the service answered to a callback."""

    status: int
    text: str

    def twiml(self) -> ET.Element:
        return ET.fromstring(self.text)  # noqa: S314 - the service under test's TwiML

    def said(self) -> list[str]:
        """Every `<Message>` or `<Say>` text of a TwiML answer, in order."""
        root = self.twiml()
        return [el.text or "" for el in root.iter() if el.tag in ("Message", "Say")]


@dataclass
class _Created:
    resource: Resource
    sid: str
    form: dict[str, str]
    last_twiml: str | None = None


class TwilioStandIn:
    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        callback_base: str | None = None,
        service_number: str = DEFAULT_SERVICE_NUMBER,
        host: str = "127.0.0.1",
        port: int = 0,
        auto_statuses: tuple[str, ...] = (),
        chaos: Chaos | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callback_base = callback_base.rstrip("/") if callback_base else None
        self.service_number = service_number
        self.auto_statuses = auto_statuses
        self.requests: list[RecordedRequest] = []
        self._host = host
        self._port = port
        self._scripts: dict[Resource, deque[Reply]] = {"Messages": deque(), "Calls": deque()}
        self._created: dict[str, _Created] = {}
        self._validator = RequestValidator(auth_token)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._inbound_ids = itertools.count(1)
        self.chaos = chaos
        self._chaos_rng = random.Random(chaos.seed if chaos else 0)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> TwilioStandIn:
        app = web.Application()
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}"
        app.router.add_post(f"{prefix}/Messages.json", self._create_message)
        app.router.add_post(f"{prefix}/Calls.json", self._create_call)
        app.router.add_post("/_standin/script", self._control_script)
        app.router.add_get("/_standin/requests", self._control_requests)
        app.router.add_post("/_standin/inbound", self._control_inbound)
        app.router.add_post("/_standin/status", self._control_status)
        app.router.add_post("/_standin/keys", self._control_keys)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> TwilioStandIn:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the SDK (PST_TWILIO_API_BASE)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    # -- what was asked -------------------------------------------------------------------
    @property
    def messages(self) -> list[RecordedRequest]:
        """Requests that created a message."""
        return [r for r in self.requests if r.resource == "Messages" and r.status == 201]

    @property
    def calls(self) -> list[RecordedRequest]:
        """Requests that created a call."""
        return [r for r in self.requests if r.resource == "Calls" and r.status == 201]

    def requests_to(self, resource: Resource) -> list[RecordedRequest]:
        return [r for r in self.requests if r.resource == resource]

    def script(self, resource: Resource, *replies: Reply) -> None:
        """Answer the next requests to `resource` with `replies`, in order; then normally."""
        self._scripts[resource].extend(replies)

    # -- the REST API ---------------------------------------------------------------------
    async def _create_message(self, request: web.Request) -> web.Response:
        return await self._create(request, "Messages")

    async def _create_call(self, request: web.Request) -> web.Response:
        return await self._create(request, "Calls")

    async def _create(self, request: web.Request, resource: Resource) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        recorded = RecordedRequest(resource=resource, form=form)
        self.requests.append(recorded)
        if not self._authorized(request):
            recorded.status = 401
            return _error(401, 20003, "Authenticate")
        if self._scripts[resource]:
            reply = self._scripts[resource].popleft()
        else:
            reply = self._chaos_reply(recorded)
        if reply.delay_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), reply.delay_s)
        if reply.status != 201:
            recorded.status = reply.status
            headers = {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after else {}
            return _error(reply.status, reply.code, reply.message, headers)
        invalid = _invalid(resource, form)
        if invalid is not None:
            recorded.status = 400
            return _error(400, invalid[0], invalid[1])
        sid = ("SM" if resource == "Messages" else "CA") + secrets.token_hex(16)
        recorded.status, recorded.sid = 201, sid
        self._created[sid] = _Created(resource, sid, form)
        if resource == "Messages" and self.auto_statuses:
            self._in_background(self._auto_status(sid))
        return web.json_response(self._resource_json(resource, sid, form), status=201)

    def _chaos_reply(self, recorded: RecordedRequest) -> Reply:
        """The reply to an unscripted request: normal, or a fault drawn by `chaos`."""
        if self.chaos is None:
            return Reply(201)
        draw = self._chaos_rng.random()
        if draw < self.chaos.error_ratio:
            recorded.chaos = "error"
            return Reply.server_error(self.chaos.error_status)
        if draw < self.chaos.error_ratio + self.chaos.hang_ratio:
            recorded.chaos = "hang"
            return Reply.hang(self.chaos.hang_s)
        return Reply(201)

    def _authorized(self, request: web.Request) -> bool:
        if request.match_info["account_sid"] != self.account_sid:
            return False
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(
            password, self.auth_token
        )

    def _resource_json(self, resource: Resource, sid: str, form: dict[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        common = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "status": "queued",
            "date_created": now,
            "date_updated": now,
            "api_version": API_VERSION,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}/{sid}.json",
        }
        if resource == "Messages":
            return common | {
                "body": form.get("Body"),
                "direction": "outbound-api",
                "num_segments": "1",
                "num_media": "0",
                "error_code": None,
                "error_message": None,
                "price": None,
                "messaging_service_sid": None,
            }
        return common | {"direction": "outbound-api", "duration": None, "parent_call_sid": None}

    async def _auto_status(self, sid: str) -> None:
        for status in self.auto_statuses:
            await asyncio.sleep(0.01)
            try:
                await self.send_status(sid, status)
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("automatic status callback failed", extra={"error": repr(error)})
                return

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- callbacks to the service ---------------------------------------------------------
    def sign(self, url: str, form: Mapping[str, str]) -> str:
        return str(self._validator.compute_signature(url, dict(form)))

    async def post_signed(
        self, url: str, form: Mapping[str, str], *, signature: str | None = None
    ) -> CallbackResponse:
        """POST `form` to `url` as Twilio does; `signature` overrides the correct one."""
        if self._client is None:
            raise RuntimeError("the stand-in is not started")
        headers = {
            "X-Twilio-Signature": signature if signature is not None else self.sign(url, form)
        }
        async with self._client.post(url, data=dict(form), headers=headers) as response:
            return CallbackResponse(response.status, await response.text())

    def _created_or_fail(self, sid: str) -> _Created:
        created = self._created.get(sid)
        if created is None:
            raise KeyError(f"the stand-in created no message or call {sid}")
        return created

    async def send_status(
        self, sid: str, status: str, *, error_code: str | None = None
    ) -> CallbackResponse:
        """Twilio's status callback for a message or call, to the StatusCallback it was given."""
        created = self._created_or_fail(sid)
        url = created.form.get("StatusCallback")
        if not url:
            raise KeyError(f"{sid} was created without a StatusCallback")
        form = {
            "AccountSid": self.account_sid,
            "From": created.form.get("From", ""),
            "To": created.form.get("To", ""),
            "ApiVersion": API_VERSION,
        }
        if created.resource == "Messages":
            form |= {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
        else:
            form |= {"CallSid": sid, "CallStatus": status, "Direction": "outbound-api"}
            if status == "completed":
                form["CallDuration"] = "12"
        if error_code is not None:
            form["ErrorCode"] = error_code
        return await self.post_signed(url, form)

    async def send_inbound_sms(
        self, from_: str, body: str, *, to: str | None = None, message_sid: str | None = None
    ) -> CallbackResponse:
        """An SMS from `from_` to the service's number, to `{callback_base}/v1/twilio/sms`."""
        if self.callback_base is None:
            raise RuntimeError("the stand-in was given no callback_base")
        number = next(self._inbound_ids)
        form = {
            "MessageSid": message_sid or f"SM{number:032x}",
            "SmsSid": message_sid or f"SM{number:032x}",
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to or self.service_number,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": API_VERSION,
        }
        return await self.post_signed(f"{self.callback_base}/v1/twilio/sms", form)

    def _call_form(self, created: _Created, **extra: str) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "CallSid": created.sid,
            "From": created.form.get("From", ""),
            "To": created.form.get("To", ""),
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        } | extra

    async def fetch_call_twiml(self, call_sid: str) -> CallbackResponse:
        """The callee answered: Twilio asks the call's Url for its TwiML."""
        created = self._created_or_fail(call_sid)
        response = await self.post_signed(created.form["Url"], self._call_form(created))
        created.last_twiml = response.text
        return response

    async def press_keys(self, call_sid: str, digits: str) -> CallbackResponse:
        """The callee pressed `digits` during the `<Gather>` of the call's last TwiML (fetched
        first when it was not yet), posted to the gather's action URL."""
        created = self._created_or_fail(call_sid)
        if created.last_twiml is None:
            await self.fetch_call_twiml(call_sid)
        action = created.form["Url"]
        if created.last_twiml:
            twiml = ET.fromstring(created.last_twiml)  # noqa: S314 - the service under test
            gather = twiml.find("Gather")
            if gather is not None and gather.get("action"):
                action = gather.get("action", action)
        response = await self.post_signed(
            action, self._call_form(created, Digits=digits, FinishedOnKey="")
        )
        created.last_twiml = response.text
        return response

    # -- control API, for another process -------------------------------------------------
    async def _control_script(self, request: web.Request) -> web.Response:
        body = await request.json()
        replies = [Reply(**reply) for reply in body.get("replies", [])]
        self.script(body["resource"], *replies)
        return web.json_response({"scripted": len(replies)})

    async def _control_requests(self, request: web.Request) -> web.Response:
        """Every request so far, or only those from position `since` on (a poller that keeps
        its place does not make the stand-in re-send everything each time)."""
        try:
            since = max(0, int(request.query.get("since", "0")))
        except ValueError:
            return web.json_response({"error": "since is a whole number"}, status=400)
        return web.json_response(
            [
                {
                    "index": since + position,
                    "resource": r.resource,
                    "form": r.form,
                    "status": r.status,
                    "sid": r.sid,
                    "at": r.at.isoformat(),
                    "chaos": r.chaos,
                }
                for position, r in enumerate(self.requests[since:])
            ]
        )

    async def _control_inbound(self, request: web.Request) -> web.Response:
        body = await request.json()
        answer = await self.send_inbound_sms(body["from"], body["body"])
        return web.json_response({"status": answer.status, "text": answer.text})

    async def _control_status(self, request: web.Request) -> web.Response:
        body = await request.json()
        answer = await self.send_status(
            body["sid"], body["status"], error_code=body.get("error_code")
        )
        return web.json_response({"status": answer.status, "text": answer.text})

    async def _control_keys(self, request: web.Request) -> web.Response:
        body = await request.json()
        answer = await self.press_keys(body["call_sid"], body["digits"])
        return web.json_response({"status": answer.status, "text": answer.text})


def _invalid(resource: Resource, form: Mapping[str, str]) -> tuple[int, str] | None:
    to = form.get("To")
    if not to:
        return 21604, "A 'To' phone number is required."
    if not E164.fullmatch(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if resource == "Messages" and not form.get("Body"):
        return 21602, "Message body is required."
    if resource == "Calls" and not (form.get("Url") or form.get("Twiml")):
        return 21205, "Url parameter is required."
    return None


def _error(
    status: int, code: int | None, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
            "status": status,
        },
        status=status,
        headers=dict(headers or {}),
    )
