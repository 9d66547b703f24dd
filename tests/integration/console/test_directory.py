"""The team's directory against the real PostgreSQL (830 §III.C, §IV.D.3.i; FOP #4 §A.2,
§D.2.c): the page and PDF members open without signing in list only the agency's active
specialists, a phone only once it is confirmed, and their languages; an unknown or rotated-out
link is a 404 that names no agency; and who looks is never recorded: no audit row, no session,
no cookie, and (in `pst serve` processes, at DEBUG) no log line or metric with the token, the
client's address or its user agent. The coordinators' page makes and rotates the link (CSRF,
audited); `pst directory rotate|pdf` do the same from the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pst.localstack.ports import free_port
from pst.localstack.processes import spawn, stop
from services.console.accounts import totp
from services.console.accounts.passwords import CHEAP_FOR_TESTS, password_hasher
from services.console.accounts.sign_in import SignedInNow, sign_in
from services.console.accounts.users import add_user
from services.console.app import create_console
from services.console.directory import link_of, rotate_link
from services.console.models import ConsoleAuditEntry, ConsoleSession
from services.console.web.pages import BASE
from services.console.web.security import SESSION_COOKIE
from services.intake.app import create_app as intake_app
from services.intake.roster import replace_roster
from shared.clock import ManualClock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.http.mounting import mount_with_lifespan
from shared.kafka.topics import Topics
from shared.policy import load_registry
from shared.roster.entry import RosterEntryIn
from shared.settings import Settings
from tests.harness.roster_ready import TEST_ACTOR, load_ready_roster
from tests.harness.servers import SessionServers
from tests.harness.waiting import eventually

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "directory"
HASHER = password_hasher(CHEAP_FOR_TESTS)
REGISTRY = load_registry()
LOOKER = "DirectoryLooker/4.2 (marker-7f3c91)"
"""The user agent of every look: it must not show up in any log or metric."""
CLIENT = ("192.0.2.55", 40_321)
"""Where the in-process looks come from (TEST-NET-1)."""
PUBLIC_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex",
}


def member(member_id: str, name: str, phone: str, **changes: Any) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "name": name,
        "agency": "kcmo",
        "phone": phone,
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "under_investigation": False,
        "languages": ["en"],
    } | changes


KCMO = [
    member("S101", "Avery Brooks", "+18165550101", languages=["en", "es"]),
    member("S102", "Jordan Ellis", "+18165550102"),
    member("S103", "Casey Morgan", "+18165550103", training_current=False, on_call=False),
    member("S104", "Riley Chen", "+18165550104", languages=["en", "zh", "ASL", "Sorani Kurdish"]),
    member("S106", "Morgan Diaz", "+18165550106", status="inactive", languages=["en", "es"]),
]
JORDANS_NEW_PHONE = "+18165550177"
KCK = [
    member("K201", "Quinn Harper", "+19135550201") | {"agency": "kck"},
]


@dataclass
class Web:
    """The local stack's web process in this process: intake with the console mounted."""

    client: httpx.AsyncClient
    sessions: SessionFactory
    clock: ManualClock
    settings: Settings

    async def rotate(self, agency: str = "kcmo") -> str:
        async with unit_of_work(self.sessions) as session:
            link = await rotate_link(
                session, agency=agency, by="Test Rotator", now=self.clock.now()
            )
            await session.commit()
        return link.token

    async def look(self, path: str) -> httpx.Response:
        """A member's look: no cookie of any kind, a browser's user agent."""
        self.client.cookies.clear()
        return await self.client.get(path, headers={"User-Agent": LOOKER})

    async def audit(self) -> list[ConsoleAuditEntry]:
        async with unit_of_work(self.sessions) as session:
            return list(
                await session.scalars(select(ConsoleAuditEntry).order_by(ConsoleAuditEntry.id))
            )

    async def console_sessions(self) -> int:
        async with unit_of_work(self.sessions) as session:
            return int(await session.scalar(select(func.count()).select_from(ConsoleSession)) or 0)

    async def signed_in(self, role: str, agency: str = "kcmo") -> Person:
        email = f"{role}-{uuid.uuid4().hex[:6]}@{agency}.example.org"
        name = f"{role.capitalize()} Ames"
        async with unit_of_work(self.sessions) as session:
            made = await add_user(
                session,
                agency=agency,
                role=role,
                name=name,
                email=email,
                now=self.clock.now(),
                agencies=REGISTRY.slugs,
                hasher=HASHER,
            )
            await session.commit()
        async with unit_of_work(self.sessions) as session:
            result = await sign_in(
                session,
                email=email,
                password=made.password,
                code=totp.code_at(made.totp_secret, self.clock.now()),
                now=self.clock.now(),
                hasher=HASHER,
            )
            await session.commit()
        assert isinstance(result, SignedInNow), result
        return Person(
            name, {"Cookie": f"{SESSION_COOKIE}={result.session_token}"}, result.csrf_token
        )


@dataclass(frozen=True)
class Person:
    """A signed-in console user: the session cookie to send, the forms' CSRF token."""

    name: str
    headers: dict[str, str]
    csrf_token: str


async def load_rosters(sessions: SessionFactory, clock: ManualClock, topics: Topics) -> None:
    """Both agencies' rosters, every phone confirmed; then Jordan's number changes (so it is
    being confirmed again), as a roster file changing it would."""
    async with unit_of_work(sessions) as session:
        await load_ready_roster(
            session, agency="kcmo", entries=KCMO, now=clock.now(), topics=topics
        )
        await load_ready_roster(session, agency="kck", entries=KCK, now=clock.now(), topics=topics)
        changed = [
            RosterEntryIn.model_validate(
                entry | {"phone": JORDANS_NEW_PHONE} if entry["member_id"] == "S102" else entry
            )
            for entry in KCMO
        ]
        change = await replace_roster(
            session,
            agency=REGISTRY.get("kcmo"),
            entries=changed,
            now=clock.now(),
            actor=TEST_ACTOR,
            topics=topics,
            source="test roster",
        )
        assert change.phones_to_confirm == ("S102",)
        await session.commit()


@pytest.fixture
async def web(settings: Settings, clock: ManualClock, topics: Topics) -> AsyncIterator[Web]:
    app = intake_app(settings, clock=clock, run_relay=False)
    mount_with_lifespan(app, BASE, create_console(settings, clock=clock, hasher=HASHER))
    async with app.router.lifespan_context(app):
        sessions = app.state.runtime.sessions
        await load_rosters(sessions, clock, topics)
        transport = httpx.ASGITransport(app=app, client=CLIENT)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://intranet.test"
        ) as client:
            yield Web(client, sessions, clock, settings)


def _headers_are_private(answer: httpx.Response) -> None:
    for name, value in PUBLIC_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer.headers.get(name))
    assert "set-cookie" not in answer.headers


def _pictures(pdf: Path, prefix: Path) -> None:
    """The PDF's pages as PNG pictures, `prefix`-1.png and on, to be looked at."""
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(prefix)], check=True)


def _text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


async def test_the_page_lists_the_active_specialists_with_confirmed_phones_only(web: Web) -> None:
    token = await web.rotate()
    answer = await web.look(f"{BASE}/directory/{token}")
    assert answer.status_code == 200, answer.text
    _headers_are_private(answer)
    html = answer.text
    assert "Kansas City Missouri Police Department" in html
    assert "Peer Support Team" in html
    assert "Call any specialist on this list directly" in html
    # the active ones, by name; an active one whose training lapsed is still someone to call
    names = ["Avery Brooks", "Casey Morgan", "Jordan Ellis", "Riley Chen"]
    assert [html.index(name) for name in names] == sorted(html.index(name) for name in names)
    assert "Morgan Diaz" not in html, "an inactive member is not listed"
    assert "Quinn Harper" not in html, "another agency's specialist"
    # confirmed phones as tel: links; Jordan's (new, unconfirmed) number nowhere, old or new
    assert 'href="tel:+18165550101">(816) 555-0101</a>' in html
    assert 'href="tel:+18165550104">(816) 555-0104</a>' in html
    for hidden in ("+18165550102", "555-0102", JORDANS_NEW_PHONE, "555-0177", "555-0106"):
        assert hidden not in html, hidden
    jordans_row = html[html.index("Jordan Ellis") : html.index("</tr>", html.index("Jordan Ellis"))]
    assert "number being confirmed" in jordans_row
    assert "English, Spanish" in html
    assert "English, Chinese, American Sign Language, Sorani Kurdish" in html, (
        "codes are named; a language the table lacks is shown as the roster has it"
    )
    # the roster last changed at the test's clock: 23:00 on 20 November in Kansas City
    assert "Updated 20 November 2026." in html
    assert f'href="{BASE}/directory/{token}.pdf"' in html

    assert await web.audit() == [], "a look is not audited"
    assert await web.console_sessions() == 0


async def test_a_link_that_is_unknown_or_rotated_out_is_404_and_names_no_agency(web: Web) -> None:
    old = await web.rotate()
    kck = await web.rotate("kck")
    assert (await web.look(f"{BASE}/directory/{old}")).status_code == 200
    new = await web.rotate()
    assert new != old
    for path in (
        f"{BASE}/directory/{old}",
        f"{BASE}/directory/{old}.pdf",
        f"{BASE}/directory/{new[:-1]}",
        f"{BASE}/directory/{'x' * 200}",
        f"{BASE}/directory/{old.upper()}",
    ):
        answer = await web.look(path)
        assert answer.status_code == 404, path
        _headers_are_private(answer)
        assert "This link is no longer valid" in answer.text
        assert "Ask the team's coordinator" in answer.text
        for hint in ("Kansas City", "kcmo", "KCMO", "Avery Brooks", "Lodge"):
            assert hint not in answer.text, (path, hint)
    assert "Avery Brooks" in (await web.look(f"{BASE}/directory/{new}")).text
    kcks = await web.look(f"{BASE}/directory/{kck}")
    assert "Quinn Harper" in kcks.text and "Avery Brooks" not in kcks.text
    assert "FOP Lodge #4" in kcks.text
    assert await web.audit() == []
    assert await web.console_sessions() == 0


async def test_the_pdf_lists_the_names_and_the_confirmed_phones(web: Web) -> None:
    token = await web.rotate()
    answer = await web.look(f"{BASE}/directory/{token}.pdf")
    assert answer.status_code == 200
    _headers_are_private(answer)
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        'inline; filename="kcmo-peer-support-directory.pdf"'
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "directory.pdf"
    pdf.write_bytes(answer.content)
    text = await asyncio.to_thread(_text_of, pdf)
    for name in ("Avery Brooks", "Casey Morgan", "Jordan Ellis", "Riley Chen"):
        assert name in text, name
    assert "(816) 555-0101" in text and "(816) 555-0104" in text
    assert "number being confirmed" in text
    for hidden in ("Morgan Diaz", "555-0102", "555-0177", "555-0106", "Quinn Harper"):
        assert hidden not in text, hidden
    assert "Kansas City Missouri Police Department" in text
    assert "Printed 20 November 2026" in text
    assert "printed 20 November 2026 · page 1 of 1" in text
    await asyncio.to_thread(_pictures, pdf, ARTIFACTS / "directory-pdf")
    assert (ARTIFACTS / "directory-pdf-1.png").is_file()
    assert await web.audit() == []


async def test_the_coordinator_makes_and_rotates_the_link_audited_and_csrf_checked(
    web: Web,
) -> None:
    coordinator = await web.signed_in("coordinator")
    page = await web.client.get(f"{BASE}/directory", headers=coordinator.headers)
    assert page.status_code == 200, page.text
    assert "There is no link yet" in page.text and "Create the link" in page.text
    assert "Who is listed (4)" in page.text and "1 number is being confirmed" in page.text
    assert f'href="{BASE}/directory" aria-current="page">Directory' in page.text

    refused = await web.client.post(
        f"{BASE}/directory/rotate", data={"csrf_token": "wrong"}, headers=coordinator.headers
    )
    assert refused.status_code == 403
    async with unit_of_work(web.sessions) as session:
        assert await link_of(session, "kcmo") is None, "a refused form changed nothing"

    made = await web.client.post(
        f"{BASE}/directory/rotate",
        data={"csrf_token": coordinator.csrf_token},
        headers=coordinator.headers,
    )
    assert made.status_code == 303 and made.headers["location"] == f"{BASE}/directory?made=first"
    async with unit_of_work(web.sessions) as session:
        first = await link_of(session, "kcmo")
    assert first is not None and first.rotated_by == coordinator.name
    page = await web.client.get(f"{BASE}/directory?made=first", headers=coordinator.headers)
    assert f'href="http://intranet.test{BASE}/directory/{first.token}"' in page.text
    assert "The old link stops working at once" in page.text
    assert "Rotate the link" in page.text and "The link was made." in page.text

    await web.client.post(
        f"{BASE}/directory/rotate",
        data={"csrf_token": coordinator.csrf_token},
        headers=coordinator.headers,
    )
    async with unit_of_work(web.sessions) as session:
        second = await link_of(session, "kcmo")
    assert second is not None and second.token != first.token
    assert (await web.look(f"{BASE}/directory/{first.token}")).status_code == 404
    assert (await web.look(f"{BASE}/directory/{second.token}")).status_code == 200

    download = await web.client.get(f"{BASE}/directory.pdf", headers=coordinator.headers)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download.headers["content-disposition"].startswith("attachment;")

    rotations = [
        (row.action, row.actor, row.object_id, row.detail)
        for row in await web.audit()
        if row.action.startswith("directory.")
    ]
    assert rotations == [
        ("directory.read", coordinator.name, "kcmo", {}),
        ("directory.rotate", coordinator.name, "kcmo", {"first": True}),
        ("directory.read", coordinator.name, "kcmo", {}),
        ("directory.rotate", coordinator.name, "kcmo", {"first": False}),
        ("directory.pdf", coordinator.name, "kcmo", {}),
    ], "who rotated is audited; the member's looks in between are not"
    assert all(second.token not in str(row.detail) for row in await web.audit())


async def test_a_commander_may_neither_see_nor_rotate_the_link(web: Web) -> None:
    token = await web.rotate()
    commander = await web.signed_in("commander")
    for answer in (
        await web.client.get(f"{BASE}/directory", headers=commander.headers),
        await web.client.get(f"{BASE}/directory.pdf", headers=commander.headers),
        await web.client.post(
            f"{BASE}/directory/rotate",
            data={"csrf_token": commander.csrf_token},
            headers=commander.headers,
        ),
    ):
        assert answer.status_code == 403
        assert token not in answer.text
    async with unit_of_work(web.sessions) as session:
        kept = await link_of(session, "kcmo")
    assert kept is not None and kept.token == token
    signed_out = await web.client.get(f"{BASE}/directory")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == f"{BASE}/sign-in"


# -- the command line ---------------------------------------------------------------------------


def _pst(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PST_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_pst_directory_rotate_and_pdf(web: Web, tmp_path: Path) -> None:
    url = web.settings.require_database_url()
    old = await web.rotate()
    rotated = await asyncio.to_thread(_pst, url, "directory", "rotate", "--agency", "kcmo")
    assert rotated.returncode == 0, rotated.stderr
    path = rotated.stdout.strip()
    assert path.startswith(f"{BASE}/directory/") and len(path.splitlines()) == 1
    assert (await web.look(path)).status_code == 200
    assert (await web.look(f"{BASE}/directory/{old}")).status_code == 404
    (row,) = [r for r in await web.audit() if r.action == "directory.rotate"]
    assert row.actor.endswith("(pst directory rotate)") and row.agency == "kcmo"

    out = tmp_path / "board.pdf"
    made = await asyncio.to_thread(
        _pst, url, "directory", "pdf", "--agency", "kcmo", "--out", str(out)
    )
    assert made.returncode == 0, made.stderr
    text = await asyncio.to_thread(_text_of, out)
    assert "Avery Brooks" in text and "(816) 555-0101" in text and "Morgan Diaz" not in text

    for args, reason in (
        (("rotate", "--agency", "nowhere"), "no agency 'nowhere'"),
        (("pdf", "--agency", "nowhere", "--out", str(out)), "no agency 'nowhere'"),
        (("pdf", "--agency", "kcmo", "--out", str(tmp_path)), "give a file in an existing folder"),
        (("pdf", "--agency", "kcmo", "--out", str(tmp_path / "no" / "f.pdf")), "existing folder"),
    ):
        refused = await asyncio.to_thread(_pst, url, "directory", *args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert reason in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    async with unit_of_work(web.sessions) as session:
        kept = await link_of(session, "kcmo")
    assert kept is not None and kept.token == path.rsplit("/", 1)[1], "refusals changed nothing"


# -- nothing of a look in the logs or the metrics of real `pst serve` processes ----------------


@asynccontextmanager
async def pst_serve(
    servers: SessionServers, settings: Settings, log: Path, *argv: str
) -> AsyncIterator[str]:
    """`pst serve ...` as `pst up` runs it, logging at DEBUG into `log`; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment: Mapping[str, str] = {
        "PST_DATABASE_URL": settings.require_database_url(),
        "PST_KAFKA_BOOTSTRAP": servers.kafka.bootstrap,
        "PST_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
        "PST_STATE_DIR": str(settings.state_dir),
        "PST_PUBLIC_URL": url,
        "PST_LOG_LEVEL": "DEBUG",
    }
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
    with log.open("wb") as output:
        process = spawn(
            [sys.executable, "-m", "pst.cli", "serve", *argv, "--port", str(port)],
            env=inherited | dict(environment),
            stdout=output,
            stderr=output,
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

                await eventually(answering, timeout_s=60, what=f"pst serve {argv[0]}")
            if process.poll() is not None:
                tail = await asyncio.to_thread(log.read_text, errors="replace")
                raise AssertionError(f"pst serve {argv[0]} exited:\n{tail[-3000:]}")
            yield url
        finally:
            await asyncio.to_thread(stop, process, timeout_s=15)


@pytest.mark.parametrize(
    "argv", [("console",), ("intake", "--with-console")], ids=["console", "web-process"]
)
async def test_who_looks_is_in_no_log_line_and_no_metric(
    web: Web, servers: SessionServers, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    token = await web.rotate()
    wrong = f"not-a-link-{uuid.uuid4().hex}"
    log = tmp_path / "serve.log"
    looker = "127.0.0.2"  # the server listens on 127.0.0.1: the looker's own address is apart
    async with pst_serve(servers, web.settings, log, *argv) as url:
        transport = httpx.AsyncHTTPTransport(local_address=looker)
        async with httpx.AsyncClient(
            base_url=url, transport=transport, headers={"User-Agent": LOOKER}, timeout=30
        ) as member_browser:
            page = await member_browser.get(f"{BASE}/directory/{token}")
            pdf = await member_browser.get(f"{BASE}/directory/{token}.pdf")
            gone = await member_browser.get(f"{BASE}/directory/{wrong}")
            gone_pdf = await member_browser.get(f"{BASE}/directory/{wrong}.pdf")
            style = await member_browser.get(f"{BASE}/static/directory.css")
        assert [page.status_code, pdf.status_code, gone.status_code, gone_pdf.status_code] == [
            200,
            200,
            404,
            404,
        ]
        assert style.status_code == 200 and "body.directory" in style.text
        assert "Avery Brooks" in page.text
        assert all("set-cookie" not in a.headers for a in (page, pdf, gone, gone_pdf))
        async with httpx.AsyncClient(base_url=url) as operator:
            metrics = (await operator.get("/metrics")).text
    logged = await asyncio.to_thread(log.read_text, errors="replace")
    assert "Application startup complete." in logged, "the process's log was captured"
    assert '"logger": "weasyprint' in logged, "the PDF's rendering logged in it too"
    for secret in (token, wrong, looker, LOOKER, "marker-7f3c91"):
        assert secret not in logged, f"{secret!r} in the log"
        assert secret not in metrics, f"{secret!r} in the metrics"
    # the looks were counted, by the route's template only
    assert 'route="/directory/{token}",service=' in metrics
    assert 'route="/directory/{token}.pdf",service=' in metrics
    assert await web.audit() == []
    assert await web.console_sessions() == 0
