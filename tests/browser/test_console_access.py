"""Who reaches what, in a real browser: a chief sees only the statistics; a form posted without
the session's CSRF token changes nothing; an idle session ends (on the next page and on an open
board); another agency's incident does not exist; wrong sign-ins are refused alike, and five of
them lock the account for 30 minutes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from services.console.accounts import totp
from services.console.models import ConsoleAuditEntry
from shared.clock import ManualClock
from shared.outbox.models import OutboxMessage
from shared.settings import Settings
from tests.browser.console_system import (
    Account,
    ConsoleSystem,
    console_system,
    example,
    specialist,
)
from tests.harness.browser import check_accessibility, screenshot

REFUSED = "The email, password or code is not right. Check them and try again."


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=True) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


async def _paged_incident(system: ConsoleSystem) -> str:
    """A kcmo incident whose two specialists have been texted."""
    secret = await system.cad_secret("kcmo")
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    await system.first_sms(2)
    return incident_id


async def test_a_chief_reaches_the_statistics_and_nothing_else(
    system: ConsoleSystem, page: Page
) -> None:
    incident_id = await _paged_incident(system)
    chief = await system.account("chief")
    await system.sign_in(page, chief)
    await expect(page).to_have_url(f"{system.console}/statistics")
    await expect(page.get_by_role("heading", name="Statistics", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Console")
    assert await nav.get_by_role("link").all_text_contents() == ["Statistics"]
    await _shows_nothing_of_the_team(page, incident_id)

    for path, status in (
        (f"/incidents/{incident_id}", 404),
        (f"/incidents/{incident_id}/stream", 403),
        ("/board", 403),
        ("/board/stream", 403),
        ("/roster", 403),
        ("/roster/KC001", 403),
        ("/alerts", 403),
        ("/test-phones", 403),
        ("/request", 403),
        ("/my-requests", 403),
    ):
        answer = await page.goto(f"{system.console}{path}")
        assert answer is not None
        assert answer.status == status, f"{path}: {answer.status}"
        await _shows_nothing_of_the_team(page, incident_id)
    answer = await page.goto(system.incident_url(incident_id))
    assert answer is not None
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()


async def _shows_nothing_of_the_team(page: Page, incident_id: str) -> None:
    html = await page.content()
    assert "/incidents/" not in html, page.url
    assert incident_id not in html, page.url
    assert "Specialist KCMO" not in html, page.url
    assert not re.search(r"\bKC\d{3}\b", html), page.url
    assert await page.locator("a[href*='/incidents/'], a[href*='/roster']").count() == 0


async def test_a_post_without_the_csrf_token_changes_nothing(
    system: ConsoleSystem, page: Page
) -> None:
    incident_id = await _paged_incident(system)
    coordinator = await system.account("coordinator")
    await system.sign_in(page, coordinator)
    await page.goto(system.incident_url(incident_id))
    token = await page.locator("input[name=csrf_token]").first.input_value()
    url = f"{system.incident_url(incident_id)}/stand-down"

    # the browser's own cookies, without the token and with a wrong one
    forms: list[dict[str, str | float | bool]] = [
        {},
        {"csrf_token": "not-the-token"},
        {"csrf_token": token[:-1]},
    ]
    for form in forms:
        answer = await page.request.post(url, form=form, max_redirects=0)
        assert answer.status == 403, (form, answer.status)
        assert "nothing was changed" in await answer.text()
    # a script in the page, as a cross-site form would post it
    status = await page.evaluate(
        """async (url) => (await fetch(url, {method: "POST", body: new URLSearchParams(),
            redirect: "manual"})).status""",
        url,
    )
    assert status == 403

    async with system.database() as session:
        commands = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "incident.stand_down_requested")
        )
        audited = await session.scalar(
            select(func.count())
            .select_from(ConsoleAuditEntry)
            .where(ConsoleAuditEntry.action == "incident.stand_down")
        )
    assert (commands, audited) == (0, 0)
    await page.goto(f"{system.console}/board")
    await expect(page.locator(".incident").filter(has_text="Line of duty death")).to_be_visible()
    assert system.twilio is not None
    assert not [m for m in system.twilio.messages if "no longer needed" in m.form["Body"]]


async def test_an_idle_session_ends_on_the_next_page(system: ConsoleSystem, page: Page) -> None:
    coordinator = await system.account("coordinator")
    await system.sign_in(page, coordinator)
    system.clock.advance(29 * 60)
    await page.reload()  # still live: and the idle timer starts again
    await expect(page.get_by_role("heading", name="Open incidents")).to_be_visible()
    system.clock.advance(31 * 60)
    await page.reload()
    await expect(page).to_have_url(f"{system.console}/sign-in")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto(f"{system.console}/roster")
    await expect(page).to_have_url(f"{system.console}/sign-in")


async def test_an_open_board_says_when_its_session_has_ended(
    system: ConsoleSystem, page: Page
) -> None:
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await expect(page.get_by_text("No open incident")).to_be_visible()
    system.clock.advance(31 * 60)
    # the next change of the board finds the session ended: the board says so, shows no more
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    await expect(page.get_by_text("Your session has ended.")).to_be_visible()
    await expect(page.locator(".incident")).to_have_count(0)
    await expect(page.locator("#live-status")).to_have_text(
        "Not live: your session has ended, so this board no longer changes."
    )
    await check_accessibility(page, "board-session-ended")
    await screenshot(page, "board-session-ended")
    await page.get_by_role("link", name="Sign in again").click()
    await expect(page).to_have_url(f"{system.console}/sign-in")


async def test_another_agencys_incident_does_not_exist(system: ConsoleSystem, page: Page) -> None:
    incident_id = await _paged_incident(system)
    kck = await system.account("coordinator", "kck")
    await system.sign_in(page, kck)
    answer = await page.goto(system.incident_url(incident_id))
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Line of duty death" not in await page.content()
    stream = await page.request.get(f"{system.incident_url(incident_id)}/stream")
    assert stream.status == 404

    await page.goto(f"{system.console}/board")
    token = await page.locator("input[name=csrf_token]").first.input_value()
    answer_post = await page.request.post(
        f"{system.incident_url(incident_id)}/stand-down",
        form={"csrf_token": token},
        max_redirects=0,
    )
    assert answer_post.status == 404
    async with system.database() as session:
        commands = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "incident.stand_down_requested")
        )
    assert commands == 0


async def _try_sign_in(page: Page, system: ConsoleSystem, account: Account, code: str) -> None:
    await page.goto(f"{system.console}/sign-in")
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_label("Code from your authenticator app").fill(code)
    await page.get_by_role("button", name="Sign in").click()


def _wrong_code(account: Account, system: ConsoleSystem) -> str:
    now = system.clock.now()
    near = {totp.code_at(account.secret, now + timedelta(seconds=s)) for s in (-60, -30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in near)


async def test_wrong_sign_ins_are_refused_alike_and_five_lock_the_account(
    system: ConsoleSystem, page: Page
) -> None:
    account = await system.account("coordinator")
    right = totp.code_at(account.secret, system.clock.now())

    await _try_sign_in(page, system, account, _wrong_code(account, system))
    await expect(page.get_by_role("alert")).to_have_text(REFUSED)
    await expect(page.get_by_label("Email")).to_have_value(account.email)
    await expect(page.get_by_label("Password")).to_have_value("")
    # a wrong password with the right code gets the very same words
    await page.get_by_label("Password").fill(account.password + "x")
    await page.get_by_label("Code from your authenticator app").fill(right)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text(REFUSED)
    # so does an email without an account
    stranger = Account("nobody@kcmo.example.org", "x" * 20, account.secret, "", "", "")
    await _try_sign_in(page, system, stranger, right)
    await expect(page.get_by_role("alert")).to_have_text(REFUSED)

    for _ in range(2):
        await _try_sign_in(page, system, account, _wrong_code(account, system))
        await expect(page.get_by_role("alert")).to_have_text(REFUSED)
    await _try_sign_in(page, system, account, _wrong_code(account, system))  # the fifth
    locked = page.get_by_role("alert")
    await expect(locked).to_contain_text("This account is locked until 23:30")
    # even the right password and a fresh code are refused until the lock runs out
    for seconds in (30, 29 * 60):
        system.clock.advance(seconds)
        await _try_sign_in(page, system, account, totp.code_at(account.secret, system.clock.now()))
        await expect(page.get_by_role("alert")).to_contain_text("is locked until 23:30")
        await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    system.clock.advance(30)  # 30 minutes after the fifth failure
    await system.sign_in(page, account)
    await expect(page.get_by_role("heading", name="Open incidents")).to_be_visible()
