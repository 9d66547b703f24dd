"""The board in a real browser: sign-in with password and TOTP, a signed CAD webhook's incident
on an open board within a second without reload, the escalation moving as the Twilio stand-in
answers, and the board used with the keyboard alone."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist
from tests.harness.browser import check_accessibility, screenshot
from tests.harness.waiting import eventually


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=True) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


async def test_a_cad_report_appears_on_an_open_board_within_a_second(
    system: ConsoleSystem, page: Page
) -> None:
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await expect(page.get_by_role("heading", name="Open incidents")).to_be_visible()
    await expect(page.get_by_text("No open incident")).to_be_visible()
    await check_accessibility(page, "board-empty")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    sent = time.monotonic()
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    card = page.locator(".incident").filter(has_text="Line of duty death")
    await expect(card).to_be_visible(timeout=1000)
    shown_after = time.monotonic() - sent
    assert shown_after < 1.0, f"the incident took {shown_after:.2f} s to appear"
    await expect(card.get_by_text("activate the team")).to_be_visible()
    await expect(card.get_by_text("830 §III.E.1")).to_be_visible()
    await expect(card.locator(".assignments li")).to_have_count(2)
    assert navigations == [], "the board changed without a reload"
    await check_accessibility(page, "board")
    await screenshot(page, "board")


async def test_the_escalation_moves_on_the_board_as_the_stand_in_answers(
    system: ConsoleSystem, page: Page
) -> None:
    twilio = system.twilio
    assert twilio is not None
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    card = page.locator(".incident").first
    await expect(card.get_by_text("paged by SMS")).to_have_count(2)
    await expect(card.get_by_text("call at")).to_have_count(2)
    first, second = await eventually(
        lambda: twilio.messages if len(twilio.messages) >= 2 else None,
        what="two SMS pages",
    )
    code = first.form["Body"].split("YES ")[1][:4]
    await twilio.send_inbound_sms(first.form["To"], f"YES {code}")
    await expect(card.get_by_text("accepted", exact=True)).to_be_visible()
    await expect(card.get_by_text("1 of 2 specialists accepted")).to_be_visible()
    # silence: after the SMS timeout the other one is called
    system.clock.advance(system.settings.sms_ack_timeout_s + 1)
    await expect(card.get_by_text("being called")).to_be_visible()
    await expect(card.get_by_text("next specialist at")).to_be_visible()
    await twilio.send_inbound_sms(second.form["To"], "no")
    await expect(card.get_by_text("declined")).to_be_visible()
    await expect(card.locator(".assignments li")).to_have_count(3)
    await screenshot(page, "board-escalation")


async def test_the_board_works_with_the_keyboard_alone(system: ConsoleSystem, page: Page) -> None:
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    await expect(page.locator(".incident")).to_have_count(1)
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert "Skip to content" in focused
    # Tab through the header to the incident's link, then open it with Enter
    for _ in range(20):
        await page.keyboard.press("Tab")
        text = await page.evaluate("document.activeElement.textContent")
        if "Line of duty death" in text:
            break
    else:
        pytest.fail("the incident's link is not reachable with Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Line of duty death", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
