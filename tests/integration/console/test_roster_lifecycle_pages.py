"""The roster's life through the console's pages (issue 14), over HTTP with a signed-in session
on the real PostgreSQL: an applicant taken step by step to active and pageable; an illegal step
refused (409) with the lifecycle's reason and nothing changed; a manager's step refused to a
coordinator; one entry's details edited (a new phone gets a code); training sessions recorded,
marked later and imported from a CSV, all or nothing and never twice (also by `pst training
import`); a repeated-failures alert opening one review, and its decision recorded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.console.accounts import totp
from services.console.accounts.passwords import CHEAP_FOR_TESTS, password_hasher
from services.console.accounts.users import add_user
from services.console.app import create_console
from services.console.eligibility import roster_with_eligibility
from services.console.models import ConsoleAuditEntry
from services.console.projection_consumer import ProjectionHandler
from services.console.web.pages import BASE
from shared.clock import ManualClock
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import CoordinatorAlertRaised, parse_event
from shared.http.mounting import mount_with_lifespan
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage
from shared.roster import phones
from shared.roster.models import (
    RosterEntry,
    RosterReview,
    RosterTransition,
    TrainingAttendance,
    TrainingSession,
)
from shared.settings import Settings
from tests.harness.roster_ready import TEST_ACTOR, load_ready_roster
from tests.integration.dispatcher.conftest import Harness, harness, registry, roster_entry
from tests.integration.dispatcher.conftest import report as dispatcher_report

__all__ = ["harness", "registry"]  # the dispatcher's fixtures, for its alerts' test

HASHER = password_hasher(CHEAP_FOR_TESTS)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KCMO_CHECKS = ("no_post_suspension", "no_investigation", "confidentiality")


def specialist(member_id: str, agency: str = "kcmo", **changes: Any) -> dict[str, Any]:
    prefix = {"kcmo": "+1816555", "kck": "+1913555"}[agency]
    return {
        "member_id": member_id,
        "name": f"Specialist {member_id}",
        "agency": agency,
        "phone": f"{prefix}{member_id[-4:]}",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "under_investigation": False,
    } | changes


@dataclass
class Console:
    http: httpx.AsyncClient
    sessions: SessionFactory
    clock: ManualClock
    settings: Settings
    csrf: str = ""

    async def sign_in(self, role: str, agency: str = "kcmo") -> None:
        email = f"{role}-{uuid.uuid4().hex[:6]}@{agency}.example.org"
        async with unit_of_work(self.sessions) as session:
            made = await add_user(
                session,
                agency=agency,
                role=role,
                name=f"{role.capitalize()} Poe",
                email=email,
                now=self.clock.now(),
                agencies=("kcmo", "kck"),
                hasher=HASHER,
            )
            await session.commit()
        self.http.cookies.clear()
        form = await self.http.get(f"{BASE}/sign-in")
        token = _csrf(form.text)
        signed = await self.http.post(
            f"{BASE}/sign-in",
            data={
                "email": email,
                "password": made.password,
                "code": totp.code_at(made.totp_secret, self.clock.now()),
                "csrf_token": token,
            },
        )
        assert signed.status_code == 303, signed.text
        home = await self.http.get(f"{BASE}/", follow_redirects=True)
        self.csrf = _csrf(home.text)  # the sign-out form's

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"{BASE}{path}")

    async def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(f"{BASE}{path}", data={"csrf_token": self.csrf, **(data or {})})

    async def upload(self, path: str, content: bytes) -> httpx.Response:
        return await self.http.post(
            f"{BASE}{path}",
            data={"csrf_token": self.csrf},
            files={"file": ("attendance.csv", content, "text/csv")},
        )

    async def roster(self, agency: str, entries: list[dict[str, Any]]) -> None:
        async with unit_of_work(self.sessions) as session:
            await load_ready_roster(
                session,
                agency=agency,
                entries=entries,
                now=self.clock.now(),
                topics=Topics(self.settings.kafka_topic_prefix),
            )
            await session.commit()

    async def entry(self, member_id: str, agency: str = "kcmo") -> RosterEntry | None:
        async with unit_of_work(self.sessions) as session:
            found: RosterEntry | None = await session.scalar(
                select(RosterEntry).where(
                    RosterEntry.agency == agency, RosterEntry.member_id == member_id
                )
            )
            return found

    async def steps(self, member_id: str) -> list[tuple[str, str, str, str, str]]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.execute(
                select(
                    RosterTransition.step,
                    RosterTransition.to_status,
                    RosterTransition.actor_role,
                    RosterTransition.via,
                    RosterTransition.reason,
                )
                .where(RosterTransition.member_id == member_id)
                .order_by(RosterTransition.seq)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    async def count(self, model: Any) -> int:
        async with unit_of_work(self.sessions) as session:
            counted: int = await session.scalar(select(func.count()).select_from(model)) or 0
            return counted

    async def codes_requested(self) -> list[tuple[str, str]]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == "roster.phone_confirmation_requested")
                .order_by(OutboxMessage.id)
            )
            return [(row.payload["member_id"], row.payload["phone"]) for row in rows]

    async def audited(self) -> list[str]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(
                select(ConsoleAuditEntry.action).order_by(ConsoleAuditEntry.id)
            )
            return list(rows)


def _columns(entry: RosterEntry | None) -> dict[str, Any]:
    assert entry is not None
    return {column.key: getattr(entry, column.key) for column in RosterEntry.__table__.columns}


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "a form with its CSRF token"
    return found.group(1)


def _text(html: str) -> str:
    """The page's text, tags and repeated white space left out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


@pytest.fixture
async def console(settings: Settings, clock: ManualClock) -> AsyncIterator[Console]:
    web = FastAPI()
    app = create_console(settings, clock=clock, hasher=HASHER)
    mount_with_lifespan(web, BASE, app)
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
            yield Console(http, app.state.runtime.sessions, clock, settings)


async def _apply(console: Console, member_id: str = "A0001", **changes: str) -> httpx.Response:
    return await console.post(
        "/roster/apply",
        {
            "member_id": member_id,
            "name": "Applicant One",
            "phone": "+18165550777",
            "languages": "en; es",
            "document": "request 2026-77",
            "reason": "application through the chain of command",
        }
        | changes,
    )


async def test_an_applicant_is_taken_to_active_and_pageable_once_the_phone_is_confirmed(
    console: Console,
) -> None:
    await console.sign_in("manager")
    applied = await _apply(console)
    assert applied.status_code == 303, applied.text
    assert applied.headers["location"] == f"{BASE}/roster/A0001?done=applied"
    page = _text((await console.get("/roster/A0001?done=applied")).text)
    assert "Application recorded" in page
    assert "applicant since 20 Nov 2026" in page
    assert "phone not confirmed" in page and "Send a new code" in page
    assert "no training recorded" in page
    assert await console.codes_requested() == [("A0001", "+18165550777")]
    roster = _text((await console.get("/roster")).text)
    assert "Joining or returning (1)" in roster and "On the team (0)" in roster

    checks = {f"check-{check}": "yes" for check in KCMO_CHECKS}
    moved = await console.post(
        "/roster/A0001/steps/confirm_eligibility", {"reason": "checked", **checks}
    )
    assert moved.status_code == 303, moved.text
    moved = await console.post(
        "/roster/A0001/steps/pass_interview",
        {"reason": "interviewed", "document": "interview 2026-12-02"},
    )
    assert moved.status_code == 303, moved.text
    page = _text((await console.get("/roster/A0001")).text)
    assert "in training since" in page
    assert "The records do not show it yet" in page
    early = await console.post("/roster/A0001/steps/complete_training", {"reason": "done"})
    assert early.status_code == 409
    assert "needs the training in the member's records first" in _text(early.text)

    recorded = await console.post(
        "/training/sessions",
        {
            "held_on": "2026-11-20",
            "title": "PSS initial training",
            "topics": "listening\nreferral",
            "mark-A0001": "attended",
            "memo-A0001": "",
        },
    )
    assert recorded.status_code == 303, recorded.text
    assert "The records show it." in _text((await console.get("/roster/A0001")).text)
    done = await console.post("/roster/A0001/steps/complete_training", {"reason": "completed"})
    assert done.status_code == 303, done.text

    entry = await console.entry("A0001")
    assert entry is not None and entry.status == "active"
    assert entry.languages == ["en", "es"]
    page = _text((await console.get("/roster/A0001")).text)
    assert "No: phone not confirmed" in page
    assert "current until 31 Mar 2027" in page
    assert "PSS initial training · attended" in page
    async with unit_of_work(console.sessions) as session:
        await phones.mark_confirmed(
            session,
            agency="kcmo",
            member_id="A0001",
            phone="+18165550777",
            now=console.clock.now(),
        )
        await session.commit()
        lines = await roster_with_eligibility(session, "kcmo", now=console.clock.now())
    assert [(line.member_id, line.why_not) for line in lines] == [("A0001", None)]
    roster = _text((await console.get("/roster")).text)
    assert "1 of 1 specialists can be paged now." in roster
    assert "On the team (1)" in roster

    assert await console.steps("A0001") == [
        ("apply", "applicant", "manager", "console", "application through the chain of command"),
        ("confirm_eligibility", "eligible", "manager", "console", "checked"),
        ("pass_interview", "in_training", "manager", "console", "interviewed"),
        ("complete_training", "active", "manager", "console", "completed"),
    ]
    history = _text((await console.get("/roster/A0001")).text)
    assert "Eligibility confirmed applicant → eligible by Manager Poe (manager, console)" in history
    assert "Document: interview 2026-12-02" in history
    assert (
        "Confirmed: Agrees to maintain confidentiality within Section III.H (§IV.E.2.c);" in history
    )
    assert "Not serving any POST suspension or on any type of POST probation (§IV.E.2.a)" in history
    audited = await console.audited()
    assert audited.count("roster.step") == 3, "the refused step is not among them"
    assert "roster.apply" in audited and "training.record" in audited


async def test_an_illegal_step_is_refused_with_the_reason_and_changes_nothing(
    console: Console,
) -> None:
    await console.sign_in("manager")
    assert (await _apply(console)).status_code == 303
    before = await console.entry("A0001")

    refused = await console.post("/roster/A0001/steps/complete_training", {"reason": "x"})
    assert refused.status_code == 409
    assert "Not possible now" in refused.text
    assert "cannot follow “applicant”: it is taken from in training" in refused.text
    missing = await console.post(
        "/roster/A0001/steps/confirm_eligibility",
        {"reason": "checked", "check-no_post_suspension": "yes"},
    )
    assert missing.status_code == 409
    assert "not confirmed: Not the subject of a criminal investigation" in missing.text
    no_reason = await console.post("/roster/A0001/steps/withdraw", {"document": "letter"})
    assert no_reason.status_code == 422 and "reason: required" in no_reason.text
    unknown = await console.post("/roster/A0001/steps/promote", {"reason": "x"})
    assert unknown.status_code == 404
    again = await _apply(console, name="Someone Else")
    assert again.status_code == 409 and "already on the roster" in again.text
    no_document = await _apply(console, member_id="A0002", document="")
    assert no_document.status_code == 409
    assert "needs the reference of the written request" in no_document.text

    after = await console.entry("A0001")
    assert after is not None and before is not None
    assert (after.status, after.status_since, after.name) == (
        before.status,
        before.status_since,
        before.name,
    )
    assert [step[0] for step in await console.steps("A0001")] == ["apply"]
    assert await console.entry("A0002") is None
    assert await console.codes_requested() == [("A0001", "+18165550777")]


async def test_a_coordinator_is_refused_a_step_only_a_manager_records(console: Console) -> None:
    await console.sign_in("coordinator")
    assert (await _apply(console)).status_code == 303
    checks = {f"check-{check}": "yes" for check in KCMO_CHECKS}
    eligible = await console.post(
        "/roster/A0001/steps/confirm_eligibility", {"reason": "checked", **checks}
    )
    assert eligible.status_code == 303
    page = (await console.get("/roster/A0001")).text
    assert "/steps/pass_interview" not in page, "only the steps a coordinator records"
    assert "/steps/withdraw" in page
    assert "A removal from “eligible” is recorded by a manager." in _text(page)
    refused = await console.post(
        "/roster/A0001/steps/pass_interview",
        {"reason": "interviewed", "document": "interview 2026-12-02"},
    )
    assert refused.status_code == 409
    assert "is recorded by manager, not by a coordinator" in refused.text
    entry = await console.entry("A0001")
    assert entry is not None and entry.status == "eligible"


async def test_editing_details_changes_that_entry_only_and_a_new_phone_is_sent_a_code(
    console: Console,
) -> None:
    await console.roster("kcmo", [specialist("KC0001"), specialist("KC0002")])
    await console.sign_in("coordinator")
    before = await console.entry("KC0001")
    assert before is not None and before.phone_verified_at is not None
    other = _columns(await console.entry("KC0002"))
    form = {
        "name": "Specialist Renamed",
        "phone": "+18165559901",
        "on_duty": "true",
        "on_call": "true",
        "languages": "en; vi",
    }
    saved = await console.post("/roster/KC0001", form)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("?done=phone")
    after = await console.entry("KC0001")
    assert after is not None
    assert (after.name, after.phone, after.on_duty, after.languages) == (
        "Specialist Renamed",
        "+18165559901",
        True,
        ["en", "vi"],
    )
    assert after.phone_verified_at is None
    assert (after.status, after.training_valid_until) == (
        before.status,
        before.training_valid_until,
    )
    assert _columns(await console.entry("KC0002")) == other
    assert ("KC0001", "+18165559901") in await console.codes_requested()
    page = _text((await console.get("/roster/KC0001")).text)
    assert "No: phone not confirmed" in page and "Send a new code" in page

    sent = await console.post("/roster/KC0001/code")
    assert sent.status_code == 303
    assert (await console.codes_requested()).count(("KC0001", "+18165559901")) == 2
    confirmed = await console.post("/roster/KC0002/code")
    assert confirmed.status_code == 409 and "confirmed already" in confirmed.text

    same_phone = await console.post("/roster/KC0001", form | {"on_duty": ""})
    assert same_phone.headers["location"].endswith("?done=saved")
    bad = await console.post("/roster/KC0001", form | {"phone": "0816 555", "name": "X"})
    assert bad.status_code == 422 and "phone" in bad.text
    status_typed = await console.post("/roster/KC0001", form | {"on_duty": "", "status": "removed"})
    assert status_typed.status_code == 303
    kept = await console.entry("KC0001")
    assert kept is not None
    assert (kept.name, kept.status, kept.on_duty) == ("Specialist Renamed", "active", False)
    assert (await console.post("/roster/NOBODY", form)).status_code == 404


CSV = (
    "date,title,topics,member_id,outcome,memo\n"
    "2026-07-14,Q3 training,Listening;Referral,KC0001,attended,\n"
    "2026-07-14,Q3 training,,KC0002,excused,memo 2026-31\n"
    "2026-10-02,Q4 training,Debriefing,KC0001,attended,\n"
)


async def _sessions(console: Console) -> list[tuple[str, str, list[str]]]:
    async with unit_of_work(console.sessions) as session:
        rows = await session.execute(
            select(TrainingSession.held_on, TrainingSession.title, TrainingSession.topics)
            .where(TrainingSession.created_by.not_like(f"{TEST_ACTOR.name}%"))
            .order_by(TrainingSession.held_on)
        )
        return [(held.isoformat(), title, list(topics)) for held, title, topics in rows]


async def _marks(console: Console) -> dict[tuple[str, str], tuple[str, str | None]]:
    async with unit_of_work(console.sessions) as session:
        rows = await session.execute(
            select(
                TrainingSession.title,
                TrainingAttendance.member_id,
                TrainingAttendance.outcome,
                TrainingAttendance.memo,
            )
            .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .where(TrainingSession.created_by.not_like(f"{TEST_ACTOR.name}%"))
        )
        return {(title, member): (outcome, memo) for title, member, outcome, memo in rows}


async def test_importing_attendance_is_all_or_nothing_and_never_doubles_a_session(
    console: Console,
) -> None:
    await console.roster(
        "kcmo", [specialist("KC0001"), specialist("KC0002", training_current=False)]
    )
    await console.sign_in("coordinator")
    bad = CSV + "2026-10-02,Q4 training,,KC0404,attended,\n"
    refused = await console.upload("/training/import", bad.encode())
    assert refused.status_code == 422
    assert "line 5: KC0404 is not on the roster" in refused.text
    for broken, said in (
        (CSV.replace("memo 2026-31", ""), "line 3: memo: an excused absence needs"),
        (CSV.replace("2026-10-02", "02/10/2026"), "line 4: date: '02/10/2026' is not a date"),
        (CSV.replace("KC0001,attended,\n2026-07", "KC0001,present,\n2026-07"), "line 2: outcome"),
        (CSV.replace("2026-10-02", "2026-12-25"), "line 4: date: 2026-12-25 is in the future"),
    ):
        answer = await console.upload("/training/import", broken.encode())
        assert answer.status_code == 422, broken
        assert said in _text(answer.text)
    assert await _sessions(console) == []
    assert (await console.entry("KC0002")).training_valid_until is None  # type: ignore[union-attr]

    imported = await console.upload("/training/import", CSV.encode())
    assert imported.status_code == 303, imported.text
    assert imported.headers["location"] == f"{BASE}/training?imported=2-0-3"
    page = _text((await console.get("/training?imported=2-0-3")).text)
    assert "Imported: 2 new sessions, 0 updated, 3 marks." in page
    assert "Q3 training 14 Jul 2026 Listening; Referral 1 1" in page
    expected = [
        ("2026-07-14", "Q3 training", ["Listening", "Referral"]),
        ("2026-10-02", "Q4 training", ["Debriefing"]),
    ]
    assert await _sessions(console) == expected
    excused = await console.entry("KC0002")
    assert excused is not None and excused.training_valid_until is not None

    again = await console.upload(
        "/training/import", CSV.replace("excused,memo 2026-31", "attended,").encode()
    )
    assert again.headers["location"] == f"{BASE}/training?imported=0-2-3"
    assert await _sessions(console) == expected
    marks = await _marks(console)
    assert marks[("Q3 training", "KC0002")] == ("attended", None)
    assert len(marks) == 3


async def test_a_session_page_turns_an_absence_into_an_excused_one(console: Console) -> None:
    await console.roster("kcmo", [specialist("KC0001"), specialist("KC0002")])
    await console.sign_in("manager")
    recorded = await console.post(
        "/training/sessions",
        {"held_on": "2026-11-02", "title": "Q4 refresher", "mark-KC0001": "attended"},
    )
    assert recorded.status_code == 303, recorded.text
    path = recorded.headers["location"].removeprefix(BASE).split("?")[0]
    twice = await console.post(
        "/training/sessions",
        {"held_on": "2026-11-02", "title": "q4 REFRESHER", "mark-KC0002": "attended"},
    )
    assert twice.status_code == 409 and "is recorded already" in twice.text
    page = _text((await console.get(path)).text)
    assert "1 attended, 0 excused" in page

    no_memo = await console.post(path, {"mark-KC0002": "excused", "memo-KC0002": ""})
    assert no_memo.status_code == 422
    assert "memo the committee approved" in no_memo.text
    marked = await console.post(
        path,
        {"mark-KC0001": "absent", "mark-KC0002": "excused", "memo-KC0002": "memo 2026-40"},
    )
    assert marked.status_code == 303, marked.text
    marks = await _marks(console)
    assert marks[("Q4 refresher", "KC0002")] == ("excused", "memo 2026-40")
    assert ("Q4 refresher", "KC0001") not in marks
    assert "0 attended, 1 excused" in _text((await console.get(path)).text)


def _pst(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        capture_output=True,
        text=True,
        env={"PST_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )


async def test_pst_training_import_answers_a_summary_or_exits_2(
    console: Console, tmp_path: Path
) -> None:
    await console.roster("kcmo", [specialist("KC0001"), specialist("KC0002")])
    url = console.settings.require_database_url()
    good = tmp_path / "attendance.csv"
    good.write_text(CSV)
    done = _pst("training", "import", "--agency", "kcmo", str(good), database_url=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        '{"agency": "kcmo", "sessions_added": 2, "sessions_updated": 0, "marks": 3}'
    )
    again = _pst("training", "import", "--agency", "kcmo", str(good), database_url=url)
    assert '"sessions_added": 0, "sessions_updated": 2' in again.stdout
    assert len(await _sessions(console)) == 2

    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "2026-10-02,Q4 training,,KC0001,attended,\n")
    refused = _pst("training", "import", "--agency", "kcmo", str(bad), database_url=url)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "pst training import: line 5: KC0001 is marked for this session on line 4 already"
    )
    unknown = _pst("training", "import", "--agency", "nowhere", str(good), database_url=url)
    assert (unknown.returncode, unknown.stderr.strip()) == (
        2,
        "pst training import: unknown agency 'nowhere'",
    )
    assert len(await _sessions(console)) == 2


async def _alert(console: Console, member_id: str, agency: str) -> CoordinatorAlertRaised:
    alert = CoordinatorAlertRaised(
        occurred_at=console.clock.now(),
        alert_id=uuid.uuid4(),
        agency=agency,
        incident_id=None,
        reason="repeated_failures",
        message=f"Specialist {member_id} has declined or not answered 4 pages in 12 months.",
        member_id=member_id,
        failures=4,
    )
    handler = ProjectionHandler(console.sessions)
    await handler(alert)
    await handler(alert)  # redelivered
    return alert


async def test_a_repeated_failures_alert_opens_one_review_and_its_decision_is_kept(
    console: Console,
) -> None:
    await console.roster("kck", [specialist("K1001", "kck"), specialist("K1002", "kck")])
    await _alert(console, "K1001", "kck")
    other = CoordinatorAlertRaised(
        occurred_at=console.clock.now(),
        alert_id=uuid.uuid4(),
        agency="kck",
        incident_id=None,
        reason="nobody_left",
        message="No eligible specialist is left.",
    )
    await ProjectionHandler(console.sessions)(other)
    assert await console.count(RosterReview) == 1
    await console.sign_in("coordinator", "kck")
    roster = _text((await console.get("/roster")).text)
    assert "Reviews to decide (1)" in roster
    assert "Review: Specialist K1001 K1001 4 failures to assist" in roster
    async with unit_of_work(console.sessions) as session:
        review = await session.scalar(select(RosterReview))
    assert review is not None and review.failures == 4

    no_reason = await console.post(f"/roster/reviews/{review.id}", {"decision": "keep"})
    assert no_reason.status_code == 422
    decided = await console.post(
        f"/roster/reviews/{review.id}", {"decision": "remove", "reason": "as the Lodge decided"}
    )
    assert decided.status_code == 303
    assert decided.headers["location"] == (
        f"{BASE}/roster/K1001?done=decided&step=remove&grounds=E.4.d#step-remove"
    )
    page = (await console.get("/roster/K1001?done=decided&step=remove&grounds=E.4.d")).text
    assert '<details id="step-remove" class="step" open>' in page
    assert re.search(r'value="E\.4\.d" required checked', page)
    assert "Review decided: remove" in _text(page)
    assert "Reviews to decide" not in _text((await console.get("/roster")).text)
    entry = await console.entry("K1001", "kck")
    assert entry is not None and entry.status == "active", "the decision is not the step"
    twice = await console.post(
        f"/roster/reviews/{review.id}", {"decision": "keep", "reason": "changed my mind"}
    )
    assert twice.status_code == 409 and "decided already" in twice.text

    removed = await console.post(
        "/roster/K1001/steps/remove",
        {"reason": "three failures", "document": "Lodge letter 12-03", "grounds": "E.4.d"},
    )
    assert removed.status_code == 303, removed.text
    async with unit_of_work(console.sessions) as session:
        kept = await session.scalar(select(RosterReview))
    assert kept is not None
    assert (kept.decision, kept.reason, kept.decided_by) == (
        "remove",
        "as the Lodge decided",
        "Coordinator Poe (coordinator, console)",
    )
    history = _text((await console.get("/roster/K1001")).text)
    assert "Grounds: Failure to assist after requested three times" in history
    assert "Review decided: remove" in history and "Review opened: 4 failures" in history
    assert "roster.review_decide" in await console.audited()


async def test_only_the_team_sees_and_changes_the_roster_and_training(console: Console) -> None:
    await console.roster("kcmo", [specialist("KC0001")])
    await console.sign_in("commander")
    for path in ("/roster", "/roster/KC0001", "/training"):
        assert (await console.get(path)).status_code == 403, path
    for path, form in (
        ("/roster/apply", {"member_id": "A1", "name": "A", "phone": "+18165550001"}),
        ("/roster/KC0001/steps/withdraw", {"reason": "x", "document": "y"}),
        ("/roster/KC0001/code", {}),
        ("/training/sessions", {"held_on": "2026-11-01", "title": "T"}),
    ):
        answer = await console.post(path, form)
        assert answer.status_code == 403, path
        assert "a commander may not" in answer.text
    assert [step[0] for step in await console.steps("KC0001")] == ["recorded"]
    assert await _sessions(console) == []


async def test_the_dispatchers_alert_names_the_member_and_the_review_counts_the_failures(
    harness: Harness,
) -> None:
    """Through the dispatcher's own handlers: its third failure within twelve months names the
    member; a year after that notice, the next one counts the failures in its own twelve
    months (here four). Each alert, however often it comes, opens one review."""
    await harness.roster(roster_entry("M1", "kck"), roster_entry("M2", "kck"))
    start = harness.clock.now()
    for day in (0, 30, 60, 300, 330, 400, 430):
        harness.clock.set(start + timedelta(days=day))
        incident = await harness.report(dispatcher_report("kck"))
        await harness.outcome(await harness.assignment(incident, "M1"), "declined")
    sent = await harness.outbox("coordinator.alert", reason="repeated_failures")
    assert [alert["member_id"] for alert in sent] == ["M1", "M1"]
    handler = ProjectionHandler(harness.sessions)
    for payload in sent + sent:  # each alert delivered twice
        await handler(parse_event(json.dumps(payload)))
    async with unit_of_work(harness.sessions) as session:
        found = (
            await session.execute(
                select(RosterReview.member_id, RosterReview.failures).order_by(
                    RosterReview.opened_at
                )
            )
        ).all()
    assert [tuple(row) for row in found] == [("M1", 3), ("M1", 4)]
