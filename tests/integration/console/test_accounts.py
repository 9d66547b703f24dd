"""Console accounts against the real PostgreSQL: adding users, signing in, lock-outs, one use
per code, session limits, the audit log, and `pst user add` through the real command."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.console.accounts import totp
from services.console.accounts.passwords import CHEAP_FOR_TESTS, password_hasher
from services.console.accounts.policy import LOCK_FOR
from services.console.accounts.sessions import (
    SignedIn,
    csrf_ok,
    current_session,
    sign_out,
    token_hash,
)
from services.console.accounts.sign_in import (
    REFUSED,
    UNKNOWN_ACTOR,
    SignedInNow,
    SignInRefused,
    SignInResult,
    sign_in,
)
from services.console.accounts.users import NewAccount, add_user
from services.console.models import ConsoleAuditEntry, ConsoleSession, ConsoleUser
from shared.clock import ManualClock
from shared.db.engine import SessionFactory, build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.errors import Conflict, InvalidInput
from shared.policy import Role

AGENCIES = ("kck", "kcmo")
HASHER = password_hasher(CHEAP_FOR_TESTS)
ZONES = {"kcmo": ZoneInfo("America/Chicago"), "kck": ZoneInfo("America/Chicago")}


@dataclass
class Console:
    sessions: SessionFactory
    clock: ManualClock

    async def add(
        self, email: str = "Pat.Roe@KCPD.org", role: str = "coordinator", agency: str = "kcmo"
    ) -> NewAccount:
        async with unit_of_work(self.sessions) as session:
            account = await add_user(
                session,
                agency=agency,
                role=role,
                name="Pat Roe",
                email=email,
                now=self.clock.now(),
                agencies=AGENCIES,
                hasher=HASHER,
            )
            await session.commit()
        return account

    def code(self, account: NewAccount) -> str:
        return totp.code_at(account.totp_secret, self.clock.now())

    async def sign_in(self, email: str, password: str, code: str) -> SignInResult:
        async with unit_of_work(self.sessions) as session:
            result = await sign_in(
                session,
                email=email,
                password=password,
                code=code,
                now=self.clock.now(),
                hasher=HASHER,
                zones=ZONES,
                client="192.0.2.7",
            )
            await session.commit()
        return result

    async def signed_in(self, account: NewAccount) -> SignedInNow:
        result = await self.sign_in(account.email, account.password, self.code(account))
        assert isinstance(result, SignedInNow), result
        return result

    async def current(self, token: str) -> SignedIn | None:
        async with unit_of_work(self.sessions) as session:
            found = await current_session(session, token=token, now=self.clock.now())
            await session.commit()
        return found

    async def user(self, account: NewAccount) -> ConsoleUser:
        async with unit_of_work(self.sessions) as session:
            user = await session.get(ConsoleUser, account.user_id)
            assert user is not None
            return user

    async def session_row(self, token: str) -> ConsoleSession:
        async with unit_of_work(self.sessions) as session:
            row = await session.get(ConsoleSession, token_hash(token))
            assert row is not None
            return row

    async def audit(self) -> list[ConsoleAuditEntry]:
        async with unit_of_work(self.sessions) as session:
            rows = await session.scalars(select(ConsoleAuditEntry).order_by(ConsoleAuditEntry.id))
            return list(rows)

    async def actions(self) -> list[str]:
        return [row.action for row in await self.audit()]


@pytest.fixture
async def console(database_url: str, clock: ManualClock) -> AsyncIterator[Console]:
    engine = build_engine(database_url, pool_size=3)
    try:
        yield Console(build_session_factory(engine), clock)
    finally:
        await engine.dispose()


async def test_a_new_user_signs_in_with_password_and_code(console: Console) -> None:
    account = await console.add()
    assert account.email == "pat.roe@kcpd.org"
    assert account.totp_uri.startswith("otpauth://totp/PST%20kcmo:pat.roe@kcpd.org?secret=")
    user = await console.user(account)
    assert user.password_hash.startswith("$argon2id$")
    assert account.password not in user.password_hash
    assert user.totp_secret == account.totp_secret

    result = await console.sign_in(" PAT.ROE@kcpd.org ", account.password, console.code(account))
    assert isinstance(result, SignedInNow)
    stored = await console.session_row(result.session_token)
    assert stored.user_id == account.user_id
    assert stored.token_hash != result.session_token
    assert stored.csrf_token == result.csrf_token
    assert stored.created_at == stored.last_seen_at == console.clock.now()
    user = await console.user(account)
    assert user.failed_attempts == 0
    assert user.last_totp_step == totp.step_at(console.clock.now())

    signed_in = await console.current(result.session_token)
    assert signed_in == SignedIn(
        user_id=account.user_id,
        agency="kcmo",
        role=Role.COORDINATOR,
        name="Pat Roe",
        email="pat.roe@kcpd.org",
        csrf_token=result.csrf_token,
        token_hash=token_hash(result.session_token),
    )
    assert csrf_ok(signed_in, result.csrf_token)
    assert not csrf_ok(signed_in, result.csrf_token[:-1] + "x")
    assert not csrf_ok(signed_in, None)
    assert not csrf_ok(signed_in, "é")
    ok = [row for row in await console.audit() if row.action == "sign_in.ok"]
    assert len(ok) == 1
    assert (ok[0].user_id, ok[0].agency, ok[0].actor, ok[0].outcome) == (
        account.user_id,
        "kcmo",
        "Pat Roe",
        "ok",
    )
    assert ok[0].detail == {"client": "192.0.2.7"}


async def test_five_failures_lock_the_account_for_thirty_minutes(console: Console) -> None:
    account = await console.add()
    start = console.clock.now()
    typed: list[str] = []
    for attempt in range(4):
        wrong = f"wrong-password-{attempt}"
        code = console.code(account)
        typed += [wrong, code]
        result = await console.sign_in(account.email, wrong, code)
        assert result == SignInRefused(REFUSED)
        console.clock.advance(10)
    wrong_code = f"{(int(console.code(account)) + 1) % 1_000_000:06d}"
    typed.append(wrong_code)
    fifth = await console.sign_in(account.email, account.password, wrong_code)
    assert isinstance(fifth, SignInRefused)
    assert fifth.locked_until == console.clock.now() + LOCK_FOR
    assert "locked until" in fifth.message
    user = await console.user(account)
    assert (user.failed_attempts, user.locked_until) == (5, fifth.locked_until)

    console.clock.advance(LOCK_FOR - timedelta(seconds=1))
    while_locked = await console.sign_in(account.email, account.password, console.code(account))
    assert isinstance(while_locked, SignInRefused)
    assert while_locked.locked_until == fifth.locked_until
    assert (await console.user(account)).failed_attempts == 5

    console.clock.advance(1)
    assert fifth.locked_until == console.clock.now()
    await console.signed_in(account)
    user = await console.user(account)
    assert (user.failed_attempts, user.locked_until) == (0, None)

    audit = await console.audit()
    assert [row.action for row in audit] == [
        "user.added",
        *["sign_in.failed"] * 5,
        "account.locked",
        "sign_in.locked",
        "sign_in.ok",
    ]
    failed = [row for row in audit if row.action == "sign_in.failed"]
    assert [row.detail["reason"] for row in failed] == ["password"] * 4 + ["code"]
    assert [row.detail["failed_attempts"] for row in failed] == [1, 2, 3, 4, 5]
    assert all(row.outcome == "failed" and row.user_id == account.user_id for row in failed)
    locked = audit[6]
    assert locked.detail["until"] == (start + timedelta(seconds=40) + LOCK_FOR).isoformat()
    assert audit[7].outcome == "refused"
    everything_recorded = json.dumps([(row.actor, row.detail) for row in audit])
    for secret in [*typed, account.password]:
        assert secret not in everything_recorded


async def test_after_a_lock_runs_out_the_account_gets_five_tries_again(console: Console) -> None:
    account = await console.add()
    for _ in range(5):
        await console.sign_in(account.email, "wrong", console.code(account))
    console.clock.advance(LOCK_FOR)
    for _ in range(4):
        assert await console.sign_in(account.email, "wrong", console.code(account)) == (
            SignInRefused(REFUSED)
        )
    again = await console.sign_in(account.email, "wrong", console.code(account))
    assert isinstance(again, SignInRefused)
    assert again.locked_until == console.clock.now() + LOCK_FOR


async def test_a_code_is_accepted_once(console: Console) -> None:
    account = await console.add()
    code = console.code(account)
    first = await console.sign_in(account.email, account.password, code)
    assert isinstance(first, SignedInNow)
    console.clock.advance(5)
    again = await console.sign_in(account.email, account.password, code)
    assert again == SignInRefused(REFUSED)
    failed = [row for row in await console.audit() if row.action == "sign_in.failed"]
    assert failed[-1].detail["reason"] == "code"
    console.clock.advance(30)
    await console.signed_in(account)


async def test_one_code_sent_twice_at_once_opens_one_session(console: Console) -> None:
    account = await console.add()
    code = console.code(account)
    results = await asyncio.gather(
        console.sign_in(account.email, account.password, code),
        console.sign_in(account.email, account.password, code),
    )
    assert sorted(type(r).__name__ for r in results) == ["SignInRefused", "SignedInNow"]


async def test_an_unknown_email_gets_the_same_answer_and_is_not_recorded(
    console: Console,
) -> None:
    account = await console.add()
    wrong_password = await console.sign_in(account.email, "nope", console.code(account))
    unknown = await console.sign_in("nobody@kcpd.org", account.password, console.code(account))
    assert unknown == wrong_password == SignInRefused(REFUSED)
    row = (await console.audit())[-1]
    assert (row.action, row.user_id, row.agency, row.actor, row.outcome) == (
        "sign_in.failed",
        None,
        None,
        UNKNOWN_ACTOR,
        "failed",
    )
    assert "nobody" not in json.dumps(row.detail)


async def test_a_disabled_user_is_refused_and_their_sessions_end(console: Console) -> None:
    account = await console.add()
    started = await console.signed_in(account)
    async with unit_of_work(console.sessions) as session:
        user = await session.get(ConsoleUser, account.user_id)
        assert user is not None
        user.disabled_at = console.clock.now()
        await session.commit()
    console.clock.advance(30)
    refused = await console.sign_in(account.email, account.password, console.code(account))
    assert refused == SignInRefused(REFUSED)
    assert await console.current(started.session_token) is None
    assert (await console.session_row(started.session_token)).end_reason == "disabled"


async def test_thirty_one_idle_minutes_end_a_session(console: Console) -> None:
    account = await console.add()
    started = await console.signed_in(account)
    console.clock.advance(timedelta(minutes=30))
    assert await console.current(started.session_token) is not None  # exactly the limit
    console.clock.advance(timedelta(minutes=30))
    assert await console.current(started.session_token) is not None  # idle since the last use
    console.clock.advance(timedelta(minutes=31))
    assert await console.current(started.session_token) is None
    row = await console.session_row(started.session_token)
    assert (row.ended_at, row.end_reason) == (console.clock.now(), "idle")
    console.clock.advance(1)
    assert await console.current(started.session_token) is None
    assert (await console.session_row(started.session_token)).ended_at == row.ended_at
    ended = [row for row in await console.audit() if row.action == "session.ended"]
    assert [row.detail for row in ended] == [{"reason": "idle"}]


async def test_twelve_hours_end_a_session_however_busy(console: Console) -> None:
    account = await console.add()
    started = await console.signed_in(account)
    created = console.clock.now()
    while console.clock.now() - created < timedelta(hours=12):
        assert await console.current(started.session_token) is not None
        console.clock.advance(timedelta(minutes=20))
    assert console.clock.now() == created + timedelta(hours=12)
    assert await console.current(started.session_token) is not None
    console.clock.advance(1)
    assert await console.current(started.session_token) is None
    assert (await console.session_row(started.session_token)).end_reason == "expired"


async def test_last_seen_is_written_at_most_every_fifteen_seconds(console: Console) -> None:
    account = await console.add()
    started = await console.signed_in(account)
    created = console.clock.now()
    console.clock.advance(14)
    await console.current(started.session_token)
    assert (await console.session_row(started.session_token)).last_seen_at == created
    console.clock.advance(1)
    await console.current(started.session_token)
    assert (await console.session_row(started.session_token)).last_seen_at == console.clock.now()


async def test_signing_out_ends_the_session(console: Console) -> None:
    account = await console.add()
    started = await console.signed_in(account)
    async with unit_of_work(console.sessions) as session:
        assert await sign_out(session, token=started.session_token, now=console.clock.now())
        await session.commit()
    assert await console.current(started.session_token) is None
    assert (await console.session_row(started.session_token)).end_reason == "signed_out"
    async with unit_of_work(console.sessions) as session:
        assert not await sign_out(session, token=started.session_token, now=console.clock.now())
    assert await console.current("not-a-token") is None
    assert await console.current("") is None
    assert (await console.actions())[-1] == "sign_out"


async def test_bad_accounts_are_refused_and_nothing_is_stored(console: Console) -> None:
    await console.add("pat.roe@kcpd.org")
    with pytest.raises(Conflict, match="already has an account"):
        await console.add("PAT.ROE@kcpd.org")
    with pytest.raises(InvalidInput, match="unknown agency 'nowhere'; known: kck, kcmo"):
        await console.add("a@kcpd.org", agency="nowhere")
    with pytest.raises(InvalidInput, match="unknown role 'admin'"):
        await console.add("a@kcpd.org", role="admin")
    for email in ["pat", "pat@kcpd", "pat roe@kcpd.org", "@kcpd.org", "a@@kcpd.org"]:
        with pytest.raises(InvalidInput, match="not an email address"):
            await console.add(email)
    async with unit_of_work(console.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(ConsoleUser)) == 1
    assert await console.actions() == ["user.added"]


def _pst(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        capture_output=True,
        text=True,
        env={"PST_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )


def _user_add(
    email: str, database_url: str, *, agency: str = "kck", role: str = "manager"
) -> subprocess.CompletedProcess[str]:
    arguments = ["--agency", agency, "--role", role, "--name", "Sam Poe", "--email", email]
    return _pst("user", "add", *arguments, database_url=database_url)


async def test_pst_user_add_prints_the_password_and_uri_once(
    console: Console, database_url: str
) -> None:
    added = _user_add("Sam.Poe@KCKPD.org", database_url)
    assert added.returncode == 0, added.stderr
    lines = dict(line.split(":", 1) for line in added.stdout.splitlines())
    password = lines["first password"].strip()
    uri = lines["authenticator URI"].strip()
    assert len(password) == 24
    assert uri.startswith("otpauth://totp/PST%20kck:sam.poe@kckpd.org?secret=")
    assert uri.endswith("&issuer=PST%20kck")
    assert "QR code" in added.stderr
    secret = uri.split("secret=")[1].split("&")[0]
    assert lines["authenticator key"].replace(" ", "") == secret

    result = await console.sign_in(
        "sam.poe@kckpd.org", password, totp.code_at(secret, console.clock.now())
    )
    assert isinstance(result, SignedInNow)
    signed_in = await console.current(result.session_token)
    assert signed_in is not None
    assert (signed_in.agency, signed_in.role, signed_in.name) == ("kck", Role.MANAGER, "Sam Poe")

    again = _user_add("sam.poe@kckpd.org", database_url, agency="kcmo")
    assert again.returncode == 2
    assert again.stdout == ""
    assert again.stderr.strip() == "pst user add: sam.poe@kckpd.org already has an account"
    for bad in [
        _user_add("new@kckpd.org", database_url, agency="nowhere"),
        _user_add("new@kckpd.org", database_url, role="admin"),
        _user_add("not-an-email", database_url),
    ]:
        assert bad.returncode == 2
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert bad.stdout == ""
    async with unit_of_work(console.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(ConsoleUser)) == 1
