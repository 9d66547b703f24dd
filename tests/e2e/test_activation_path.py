"""The whole path through the three services, with the real PostgreSQL and Kafka of the test
session and the Twilio stand-in over real HTTP: a commander's report → two SMS pages →
"YES <code>" accepts; "no" pages the next specialist; silence → a call → keypress 1 accepts.
Time is a ManualClock moved by the test; nothing sleeps for a timeout."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import HttpUrl

from pst.localstack.ports import free_port
from services.dispatcher.app import create_app as dispatcher_app
from services.intake.app import create_app as intake_app
from services.notifier.app import create_app as notifier_app
from services.notifier.sender import SenderTuning
from services.notifier.webhooks import webhook_router
from shared.clock import ManualClock
from shared.settings import Settings
from tests.harness.waiting import eventually
from tests.integration.intake.reports import example
from tests.twilio_standin import RecordedRequest, TwilioStandIn

SERVICE_NUMBER = "+18165550100"
FAST_SENDER = SenderTuning(per_number_interval_s=0.0, poll_interval_s=0.05)


@dataclass
class System:
    url: str
    api: httpx.AsyncClient
    twilio: TwilioStandIn
    clock: ManualClock
    settings: Settings

    async def token(self, role: str, agency: str = "kcmo") -> str:
        from services.intake.credentials import issue_token
        from shared.db.engine import build_engine, build_session_factory
        from shared.db.unit_of_work import unit_of_work
        from shared.policy import Role

        engine = build_engine(self.settings.require_database_url(), pool_size=1)
        try:
            async with unit_of_work(build_session_factory(engine)) as session:
                token = await issue_token(
                    session,
                    agency=agency,
                    role=Role(role),
                    name=f"{role} one",
                    phone=None,
                    now=self.clock.now(),
                )
                await session.commit()
        finally:
            await engine.dispose()
        return token

    async def credit_training(self, entries: list[dict[str, Any]]) -> None:
        """A training attended today for these members (`make_ready`, phones left as they
        are): this test's subject is the path of a page, not training records."""
        from shared.db.engine import build_engine, build_session_factory
        from shared.db.unit_of_work import unit_of_work
        from shared.roster.entry import RosterEntryIn
        from tests.harness.roster_ready import make_ready

        engine = build_engine(self.settings.require_database_url(), pool_size=1)
        try:
            async with unit_of_work(build_session_factory(engine)) as session:
                await make_ready(
                    session,
                    agency="kcmo",
                    entries=[RosterEntryIn.model_validate(entry) for entry in entries],
                    now=self.clock.now(),
                    confirm_phones=False,
                )
                await session.commit()
        finally:
            await engine.dispose()

    async def incident(self, incident_id: str, token: str) -> dict[str, Any]:
        answer = await self.api.get(
            f"/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _specialist(number: int) -> dict[str, Any]:
    return {
        "member_id": f"S{number:03d}",
        "name": f"Specialist {number}",
        "agency": "kcmo",
        "phone": f"+181655501{number:02d}",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
    }


def _codes(messages: list[RecordedRequest], count: int) -> dict[str, str] | None:
    """The phone-confirmation codes texted so far, by phone, once `count` phones have one."""
    codes = {
        m.form["To"]: found.group(1)
        for m in messages
        if (found := re.search(r"reply (\d{6}) to confirm", m.form.get("Body", "")))
    }
    return codes if len(codes) >= count else None


def _pages(system: System) -> list[RecordedRequest]:
    """The SMS pages (asking YES or NO), in the order the stand-in got them."""
    return [m for m in system.twilio.messages if "YES" in m.form.get("Body", "")]


def _code(message: RecordedRequest) -> str:
    found = re.search(r"YES (\d{4})", message.form["Body"])
    assert found, message.form["Body"]
    return found.group(1)


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[System]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with TwilioStandIn(callback_base=url, service_number=SERVICE_NUMBER) as twilio:
        wired = settings.model_copy(
            update={
                "public_url": HttpUrl(url),
                "twilio_account_sid": twilio.account_sid,
                "twilio_auth_token": twilio.auth_token,
                "twilio_from": SERVICE_NUMBER,
                "twilio_api_base": HttpUrl(twilio.url),
            }
        )
        web = intake_app(wired, clock=clock, extra_routers=[webhook_router()])
        server = uvicorn.Server(
            uvicorn.Config(web, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        )
        async with AsyncExitStack() as stack:
            serving = asyncio.create_task(server.serve())
            await eventually(lambda: server.started, what="the web process started")
            for app in (
                dispatcher_app(wired, clock=clock),
                notifier_app(wired, clock=clock, tuning=FAST_SENDER),
            ):
                await stack.enter_async_context(app.router.lifespan_context(app))
            api = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
            try:
                yield System(url, api, twilio, clock, wired)
            finally:
                server.should_exit = True
                await serving


async def test_report_to_accepted_declined_and_called(system: System) -> None:
    coordinator = await system.token("coordinator")
    roster = [_specialist(n) for n in range(1, 5)]
    answer = await system.api.put(
        "/v1/agencies/kcmo/roster", json=roster, headers={"Authorization": f"Bearer {coordinator}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["phones_to_confirm"] == [entry["member_id"] for entry in roster]

    # each new phone gets a code by SMS and is paged once the code comes back from it
    codes = await eventually(lambda: _codes(system.twilio.messages, len(roster)), what="codes")
    assert sorted(codes) == sorted(entry["phone"] for entry in roster)
    for phone, code in codes.items():
        confirmed = await system.twilio.send_inbound_sms(phone, code)
        assert confirmed.status == 200 and "confirmed" in confirmed.text, confirmed.text
    await system.credit_training(roster)

    commander = await system.token("commander")
    report = example("02-kcmo-line-of-duty-death") | {"external_id": "KC-E2E-1"}
    answer = await system.api.post(
        "/v1/incidents", json=report, headers={"Authorization": f"Bearer {commander}"}
    )
    assert answer.status_code == 202, answer.text
    incident_id = answer.json()["incident_id"]

    # report → two SMS pages, to the first two in the §6 order
    first, second = await eventually(
        lambda: _pages(system) if len(_pages(system)) >= 2 else None, what="two SMS pages"
    )
    assert {first.form["To"], second.form["To"]} == {"+18165550101", "+18165550102"}
    for page in (first, second):
        body = page.form["Body"]
        assert "YES" in body and "NO" in body and "12th St & Grand Blvd" in body
        assert "E1002" not in body

    # "YES <code>" → accepted
    reply = await system.twilio.send_inbound_sms(first.form["To"], f"YES {_code(first)}")
    assert reply.status == 200

    async def states() -> dict[str, str]:
        view = await system.incident(incident_id, coordinator)
        return {a["member_id"]: a["state"] for a in view["assignments"]}

    accepted_by = "S001" if first.form["To"].endswith("0101") else "S002"
    await eventually(lambda: _has(states, accepted_by, "accepted"), what="the page accepted")

    # "no" → the next specialist is paged
    await system.twilio.send_inbound_sms(second.form["To"], "no")
    third = await eventually(
        lambda: _pages(system)[2] if len(_pages(system)) >= 3 else None,
        what="the next specialist paged",
    )
    assert third.form["To"] not in {first.form["To"], second.form["To"]}

    # silence → after the SMS timeout, a call → keypress 1 accepts
    system.clock.advance(system.settings.sms_ack_timeout_s + 1)
    call = await eventually(
        lambda: system.twilio.calls[0] if system.twilio.calls else None, what="the call"
    )
    assert call.form["To"] == third.form["To"]
    twiml = await system.twilio.fetch_call_twiml(call.sid)
    assert "Gather" in twiml.text
    await system.twilio.press_keys(call.sid, "1")
    view = await eventually(
        lambda: _view_with(system, incident_id, coordinator, accepted=2), what="two accepted"
    )
    assert view["status"] == "activate"
    assert sorted(a["state"] for a in view["assignments"]) == ["accepted", "accepted", "declined"]
    assert len(_pages(system)) == 3, "nobody was paged twice"
    assert len(system.twilio.messages) == len(roster) + 3, "one code to each phone, then pages"


async def _has(states: Any, member: str, state: str) -> bool:
    return bool((await states()).get(member) == state)


async def _view_with(system: System, incident_id: str, token: str, *, accepted: int) -> Any:
    view = await system.incident(incident_id, token)
    done = [a for a in view["assignments"] if a["state"] == "accepted"]
    return view if len(done) == accepted else None
