"""The whole system for the console's browser tests, in this process on the test session's real
PostgreSQL and Kafka: one web server (intake, the Twilio webhooks and the console, as a `pst
up` web process serves them), the dispatcher, the notifier and the console's projector, all on
one ManualClock. With `twilio=True` the notifier sends through the Twilio stand-in over real
HTTP; without, nothing is sent and the console's test phones are the only phones.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import Page, expect
from pydantic import HttpUrl

from pst.localstack.ports import free_port
from services.console.accounts import totp
from services.console.accounts.passwords import CHEAP_FOR_TESTS, password_hasher
from services.console.accounts.users import add_user
from services.console.app import create_console
from services.console.web.pages import BASE
from services.dispatcher.app import create_app as dispatcher_app
from services.intake.app import create_app as intake_app
from services.intake.cad_signature import signature_header
from services.intake.credentials import rotate_cad_secret
from services.notifier.app import create_app as notifier_app
from services.notifier.sender import SenderTuning
from services.notifier.webhooks import webhook_router
from shared.clock import ManualClock
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.http.mounting import mount_with_lifespan
from shared.kafka.topics import Topics
from shared.settings import Settings
from tests.harness.roster_ready import load_ready_roster
from tests.harness.waiting import eventually
from tests.twilio_standin import RecordedRequest, TwilioStandIn

SERVICE_NUMBER = "+18165550100"
FAST_SENDER = SenderTuning(per_number_interval_s=0.0, poll_interval_s=0.05)
HASHER = password_hasher(CHEAP_FOR_TESTS)
EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "incidents"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    secret: str
    role: str
    agency: str
    name: str


def specialist(agency: str, number: int, **changes: Any) -> dict[str, Any]:
    prefix = {"kcmo": "+1816555", "kck": "+1913555"}[agency]
    return {
        "member_id": f"{agency[:2].upper()}{number:03d}",
        "name": f"Specialist {agency.upper()} {number}",
        "agency": agency,
        "phone": f"{prefix}{number:04d}",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
    } | changes


def example(name: str, **changes: Any) -> dict[str, Any]:
    """One of the shared examples' reports, happening 30 minutes before the test's clock."""
    report: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())["report"]
    return report | {"external_id": f"CAD-{uuid.uuid4().hex[:8]}"} | changes


@dataclass
class ConsoleSystem:
    url: str
    clock: ManualClock
    settings: Settings
    twilio: TwilioStandIn | None
    api: httpx.AsyncClient

    @property
    def console(self) -> str:
        return f"{self.url}{BASE}"

    @asynccontextmanager
    async def database(self) -> AsyncIterator[Any]:
        engine = build_engine(self.settings.require_database_url(), pool_size=1)
        try:
            async with unit_of_work(build_session_factory(engine)) as session:
                yield session
                await session.commit()
        finally:
            await engine.dispose()

    async def account(self, role: str, agency: str = "kcmo") -> Account:
        email = f"{role}-{uuid.uuid4().hex[:6]}@{agency}.example.org"
        name = f"{role.capitalize()} {email[:10]}"
        async with self.database() as session:
            made = await add_user(
                session,
                agency=agency,
                role=role,
                name=name,
                email=email,
                now=self.clock.now(),
                agencies=("kcmo", "kck"),
                hasher=HASHER,
            )
        return Account(email, made.password, made.totp_secret, role, agency, name)

    async def cad_secret(self, agency: str) -> str:
        async with self.database() as session:
            return await rotate_cad_secret(session, agency=agency, now=self.clock.now())

    async def roster(self, agency: str, entries: list[dict[str, Any]]) -> None:
        """The agency's roster through intake's own write, pageable as the entries say (phones
        confirmed; training credited today unless an entry says `training_current: False`)."""
        async with self.database() as session:
            await load_ready_roster(
                session,
                agency=agency,
                entries=entries,
                now=self.clock.now(),
                topics=Topics(self.settings.kafka_topic_prefix),
            )

    async def send_cad(self, agency: str, secret: str, report: dict[str, Any]) -> str:
        body = json.dumps(report).encode()
        answer = await self.api.post(
            f"/v1/cad/{agency}/events",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-PST-Signature": signature_header(
                    secret, int(self.clock.now().timestamp()), body
                ),
            },
        )
        assert answer.status_code in (200, 202), answer.text
        incident_id: str = answer.json()["incident_id"]
        return incident_id

    def incident_url(self, incident_id: str) -> str:
        return f"{self.console}/incidents/{incident_id}"

    def sms_sent_to(self, phone: str, containing: str = "") -> list[RecordedRequest]:
        """The stand-in's SMS to `phone` so far (with `containing` in the body)."""
        assert self.twilio is not None, "a system without the Twilio stand-in"
        return [
            m
            for m in self.twilio.messages
            if m.form.get("To") == phone and containing in m.form.get("Body", "")
        ]

    async def sms_to(self, phone: str, containing: str = "") -> RecordedRequest:
        """The first SMS the stand-in got for `phone` (with `containing`), once it came."""
        sent: list[RecordedRequest] = await eventually(
            lambda: self.sms_sent_to(phone, containing),
            what=f"an SMS to {phone}" + (f" saying {containing!r}" if containing else ""),
        )
        return sent[0]

    async def first_sms(self, count: int) -> list[RecordedRequest]:
        """The stand-in's first `count` SMS, once that many came."""
        twilio = self.twilio
        assert twilio is not None, "a system without the Twilio stand-in"
        sent: list[RecordedRequest] = await eventually(
            lambda: twilio.messages[:count] if len(twilio.messages) >= count else None,
            what=f"{count} SMS",
        )
        return sent

    async def sign_in(self, page: Page, account: Account) -> None:
        await page.goto(f"{self.console}/sign-in")
        await page.get_by_label("Email").fill(account.email)
        await page.get_by_label("Password").fill(account.password)
        await page.get_by_label("Code from your authenticator app").fill(
            totp.code_at(account.secret, self.clock.now())
        )
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@asynccontextmanager
async def console_system(
    settings: Settings, clock: ManualClock, *, twilio: bool
) -> AsyncIterator[ConsoleSystem]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with AsyncExitStack() as stack:
        standin: TwilioStandIn | None = None
        wired = settings.model_copy(update={"public_url": HttpUrl(url)})
        if twilio:
            standin = await stack.enter_async_context(
                TwilioStandIn(callback_base=url, service_number=SERVICE_NUMBER)
            )
            wired = wired.model_copy(
                update={
                    "twilio_account_sid": standin.account_sid,
                    "twilio_auth_token": standin.auth_token,
                    "twilio_from": SERVICE_NUMBER,
                    "twilio_api_base": HttpUrl(standin.url),
                }
            )
        web = intake_app(wired, clock=clock, extra_routers=[webhook_router()])
        mount_with_lifespan(
            web, BASE, create_console(wired, clock=clock, hasher=HASHER, run_projector=True)
        )
        server = uvicorn.Server(
            uvicorn.Config(
                web,
                host="127.0.0.1",
                port=port,
                log_config=None,
                lifespan="on",
                timeout_graceful_shutdown=2,
            )
        )
        serving = asyncio.create_task(server.serve())
        try:
            await eventually(lambda: server.started, what="the web process started")
            for app in (
                dispatcher_app(wired, clock=clock),
                notifier_app(wired, clock=clock, tuning=FAST_SENDER),
            ):
                await stack.enter_async_context(app.router.lifespan_context(app))
            api = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
            yield ConsoleSystem(url, clock, wired, standin, api)
        finally:
            await stack.aclose()
            server.should_exit = True
            await serving
