"""Service processes started exactly as `pst up` starts them (`pst serve ...`, each a process
of its own), on a PostgreSQL database and Kafka topics of their own: above all the local stack's
web process (intake's routes and the notifier's Twilio webhooks on one port, `pst serve intake
--with-notifier-routes`). Twilio is configured, with PST_PUBLIC_URL naming the process itself so
that requests can be signed as Twilio signs them, and a closed port as its REST API: nothing
leaves the machine.

Around them: credentials (bearer tokens, CAD secrets for kcmo and kck), a roster, one stored
incident (web process), one open SMS page and one open call page for a specialist; and a
fingerprint of every table, to show that bad input changed nothing stored.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from twilio.request_validator import RequestValidator

from pst.localstack.ports import free_port
from pst.localstack.processes import spawn, stop
from services.intake.cad_signature import signature_header
from services.intake.credentials import issue_token, rotate_cad_secret
from services.notifier.models import NotifierPage
from services.notifier.page_states import PageKind, SendState
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.events import PageFacts
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics
from shared.outbox.models import PENDING, OutboxMessage
from shared.policy import Role
from tests.harness.roster_ready import add_ready_entries
from tests.harness.servers import SessionServers
from tests.harness.waiting import eventually
from tests.integration.intake.reports import example

TWILIO_AUTH_TOKEN = "bad-input-twilio-auth-token"
TWILIO_ACCOUNT_SID = "AC" + "b" * 32
SERVICE_NUMBER = "+18165550100"
SPECIALIST_PHONE = "+18165550111"
OTHER_SPECIALIST_PHONE = "+18165550122"
PAGE_CODE = "4821"
SMS_SID = "SM" + "1" * 32
CALL_SID = "CA" + "2" * 32

Fingerprint = dict[str, tuple[int, str]]


def service_environment(
    servers: SessionServers, database: str, topics: Topics, state_dir: Path, port: int
) -> dict[str, str]:
    """The PST_* settings of a service process on `port`, as `pst up` would give them, with
    Twilio configured."""
    return {
        "PST_DATABASE_URL": servers.postgres.url(database),
        "PST_KAFKA_BOOTSTRAP": servers.kafka.bootstrap,
        "PST_KAFKA_TOPIC_PREFIX": topics.prefix,
        "PST_STATE_DIR": str(state_dir),
        "PST_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PST_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "PST_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "PST_TWILIO_FROM": SERVICE_NUMBER,
        "PST_TWILIO_API_BASE": "http://127.0.0.1:9",
        "PST_TOKEN_RATE_PER_S": "10000",
    }


@asynccontextmanager
async def pst_serve(
    service: str, environment: Mapping[str, str], log: Path, *options: str
) -> AsyncIterator[str]:
    """`pst serve SERVICE` in a process of its own on PST_PUBLIC_URL's port; yields its URL
    once it answers /healthz, and stops it (SIGTERM) afterwards."""
    url = environment["PST_PUBLIC_URL"]
    argv = [sys.executable, "-m", "pst.cli", "serve", service, "--port", url.rsplit(":", 1)[1]]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
    with log.open("wb") as output:
        process = spawn(
            [*argv, *options], env=inherited | dict(environment), stdout=output, stderr=output
        )
        try:
            async with httpx.AsyncClient(base_url=url, timeout=2) as client:

                async def answering() -> bool:
                    if process.poll() is not None:
                        return True
                    try:
                        return (await client.get("/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await eventually(answering, timeout_s=60, what=f"pst serve {service}")
            if process.poll() is not None:
                tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-3000:]
                raise RuntimeError(f"pst serve {service} exited {process.returncode}:\n{tail}")
            yield url
        finally:
            await asyncio.to_thread(stop, process, timeout_s=15)


def report(external_id: str | None = "KC-26-BAD-1", **changes: Any) -> dict[str, Any]:
    """A valid kcmo line-of-duty-death report that happened ten minutes ago."""
    occurred = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    body = example("02-kcmo-line-of-duty-death") | {"occurred_at": occurred.isoformat()}
    if external_id is not None:
        body["external_id"] = external_id
    return body | changes


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class LiveService:
    name: str
    """web, dispatcher or notifier"""
    url: str
    log: Path
    """the process's log (JSON lines)"""
    engine: AsyncEngine
    sessions: SessionFactory
    coordinator: str
    """a kcmo coordinator's bearer token"""
    commander: str
    """a kcmo commander's bearer token"""
    cad_secrets: dict[str, str]
    """each agency's CAD secret"""
    incident_id: str | None
    """the incident the web process stored before the test (kcmo, external id KC-26-BAD-1)"""
    sms_page_id: uuid.UUID
    call_page_id: uuid.UUID
    """the open SMS and call pages of SPECIALIST_PHONE's assignment"""

    # -- signing, as CAD systems and Twilio do ----------------------------------------------
    def cad_headers(
        self, body: bytes, *, agency: str = "kcmo", at: float | None = None
    ) -> dict[str, str]:
        stamp = int(time.time() if at is None else at)
        return {
            "Content-Type": "application/json",
            "X-PST-Signature": signature_header(self.cad_secrets[agency], stamp, body),
        }

    def twilio_signature(self, url: str, form: Mapping[str, str]) -> str:
        """`X-Twilio-Signature` of `form` posted to `url` (the full URL, query included)."""
        return str(RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, dict(form)))

    async def post_twilio(
        self,
        client: httpx.AsyncClient,
        path: str,
        form: Mapping[str, str],
        *,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST `form` to `path` (query included) signed as Twilio signs it, unless
        `signature` is given."""
        url = f"{self.url}{path}"
        signed = self.twilio_signature(url, form) if signature is None else signature
        return await client.post(url, data=dict(form), headers={"X-Twilio-Signature": signed})

    # -- what is stored -----------------------------------------------------------------------
    async def fingerprint(self) -> Fingerprint:
        """Every table's row count and a hash of all its rows."""
        async with self.engine.connect() as connection:
            tables = (
                await connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
                )
            ).all()
            found: Fingerprint = {}
            for table in tables:
                count, digest = (
                    await connection.execute(
                        text(
                            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608
                            f"ORDER BY t::text), '')) FROM \"{table}\" t"
                        )
                    )
                ).one()
                found[table] = (int(count), str(digest))
            return found

    async def unchanged_by(
        self, request: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        """The answer to `request`, once it is shown to have changed nothing stored."""
        before = await self.fingerprint()
        answer = await request()
        after = await self.fingerprint()
        changed = sorted(
            table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
        )
        assert not changed, f"{answer.status_code} {answer.text[:200]} changed {changed}"
        return answer

    async def page(self, page_id: uuid.UUID) -> NotifierPage:
        async with unit_of_work(self.sessions) as session:
            row = await session.get(NotifierPage, page_id)
            assert row is not None
            session.expunge(row)
            return row

    async def outbox_settled(self) -> None:
        """Wait until the web process's relay has published every outbox row (it changes them)."""

        async def none_pending() -> bool:
            async with unit_of_work(self.sessions) as session:
                pending = await session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.status == PENDING).limit(1)
                )
                return pending is None

        await eventually(none_pending, what="the outbox published")


async def _credentials(sessions: SessionFactory) -> tuple[str, str, dict[str, str]]:
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        coordinator = await issue_token(
            session, agency="kcmo", role=Role.COORDINATOR, name="coordinator", phone=None, now=now
        )
        commander = await issue_token(
            session, agency="kcmo", role=Role.COMMANDER, name="commander", phone=None, now=now
        )
        secrets = {
            agency: await rotate_cad_secret(session, agency=agency, now=now)
            for agency in ("kcmo", "kck")
        }
        await session.commit()
    return coordinator, commander, secrets


async def _roster_and_pages(sessions: SessionFactory) -> tuple[uuid.UUID, uuid.UUID]:
    """Two kcmo specialists on the roster; an open SMS page and an open call page (already
    sent) for the first one's assignment, as the notifier stores them."""
    now = datetime.now(UTC)
    facts = PageFacts(
        agency="kcmo",
        occurred_at=now - timedelta(minutes=10),
        time_zone="America/Chicago",
        event="line_of_duty_death",
        lat=39.0997,
        lon=-94.5786,
        address="12th St & Grand Blvd, Kansas City, MO",
    )
    assignment_id, incident_id = uuid.uuid4(), uuid.uuid4()
    pages = {"sms": (uuid.uuid4(), SMS_SID), "call": (uuid.uuid4(), CALL_SID)}
    async with unit_of_work(sessions) as session:
        await add_ready_entries(
            session,
            agency="kcmo",
            entries=[
                {
                    "agency": "kcmo",
                    "member_id": f"S{number:03d}",
                    "name": f"Specialist {number}",
                    "phone": phone,
                    "status": "active",
                    "on_duty": False,
                    "on_call": True,
                    "under_investigation": False,
                }
                for number, phone in enumerate((SPECIALIST_PHONE, OTHER_SPECIALIST_PHONE), start=1)
            ],
            now=now,
        )
        for channel, (page_id, sid) in pages.items():
            session.add(
                NotifierPage(
                    id=page_id,
                    kind=PageKind.PAGE.value,
                    channel=channel,
                    agency="kcmo",
                    assignment_id=assignment_id,
                    incident_id=incident_id,
                    member_id="S001",
                    phone=SPECIALIST_PHONE,
                    code=PAGE_CODE,
                    body=f"PST page {PAGE_CODE}",
                    facts=facts.model_dump(mode="json"),
                    remind_supervisor=False,
                    state=SendState.SENT.value,
                    attempts=1,
                    send_after=now,
                    send_deadline=now + timedelta(minutes=2),
                    twilio_sid=sid,
                    twilio_status="sent",
                    twilio_status_rank=3 if channel == "sms" else 2,
                    created_at=now,
                    sent_at=now,
                )
            )
        await session.commit()
    return pages["sms"][0], pages["call"][0]


@asynccontextmanager
async def live_service(
    servers: SessionServers, state_dir: Path, service: str = "web"
) -> AsyncIterator[LiveService]:
    """A service process (`web`: intake with the notifier's webhooks, as the local stack
    serves them; or `dispatcher`, `notifier`) on a database and topics of its own, with the
    credentials, roster and pages above stored; the web process also stores one incident."""
    database = await servers.fresh_database()
    topics = Topics(prefix=f"b{uuid.uuid4().hex[:10]}.")
    await ensure_topics(servers.kafka.bootstrap, topics.specs())
    environment = service_environment(servers, database, topics, state_dir, free_port())
    engine = build_engine(environment["PST_DATABASE_URL"], pool_size=2)
    sessions = build_session_factory(engine)
    log = state_dir / f"{service}.log"
    command = ("intake", "--with-notifier-routes") if service == "web" else (service,)
    try:
        coordinator, commander, secrets = await _credentials(sessions)
        sms_page_id, call_page_id = await _roster_and_pages(sessions)
        async with (
            pst_serve(command[0], environment, log, *command[1:]) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            incident_id = None
            if service == "web":
                stored = await client.post(
                    "/v1/incidents", json=report("KC-26-BAD-1"), headers=bearer(commander)
                )
                assert stored.status_code == 202, stored.text
                incident_id = stored.json()["incident_id"]
            live = LiveService(
                name=service,
                url=url,
                log=log,
                engine=engine,
                sessions=sessions,
                coordinator=coordinator,
                commander=commander,
                cad_secrets=secrets,
                incident_id=incident_id,
                sms_page_id=sms_page_id,
                call_page_id=call_page_id,
            )
            await live.outbox_settled()
            yield live
    finally:
        await engine.dispose()
        await servers.drop_database(database)


@pytest.fixture
async def web(
    servers: SessionServers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    """A web process of the test's own."""
    async with live_service(servers, tmp_path_factory.mktemp("state")) as live:
        yield live


@pytest.fixture(scope="module")
async def module_web(
    servers: SessionServers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveService]:
    """One web process for a module's tests, each of which leaves it as it found it."""
    async with live_service(servers, tmp_path_factory.mktemp("state")) as live:
        yield live


@pytest.fixture
async def service(
    request: pytest.FixtureRequest, servers: SessionServers, tmp_path: Path
) -> AsyncIterator[LiveService]:
    """The service process named by the test's parameter (`indirect=True`)."""
    async with live_service(servers, tmp_path, request.param) as live:
        yield live
