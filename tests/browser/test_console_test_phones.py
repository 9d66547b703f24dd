"""The test phones, in a real browser, with no Twilio configured (a newcomer's first run): the
pages the service would have texted appear on an open test phones page, and answering "YES
<code>" from one phone's box takes the real reply path: the phone shows the service's thanks and
the board shows the specialist accepted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist
from tests.harness.browser import check_accessibility, screenshot


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


async def test_a_test_phone_accepts_a_page_and_the_board_shows_it(
    system: ConsoleSystem, page: Page
) -> None:
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await (
        page.get_by_role("navigation", name="Console")
        .get_by_role("link", name="Test phones")
        .click()
    )
    await expect(page.get_by_role("heading", name="Test phones", level=1)).to_be_visible()
    phones = page.locator(".phone")
    await expect(phones).to_have_count(4)  # the roster's phones, none texted yet
    await expect(phones.get_by_text("No message yet.")).to_have_count(4)

    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    texted = phones.filter(has_text="YES ")
    await expect(texted).to_have_count(2)  # live: the open page shows the pages kept unsent
    first = texted.first
    name = (await first.locator("h2").inner_text()).split("+")[0].strip()
    page_text = await first.locator(".messages li.out").first.inner_text()
    assert "line-of-duty death" in page_text, page_text
    code = page_text.split("YES ")[1][:4]
    assert code.isdigit(), page_text

    await first.get_by_label(f"Reply as {name}").fill(f"YES {code}")
    await first.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_have_text("Sent.")
    answered = phones.filter(has_text=name)
    await expect(answered.locator(".messages li.in")).to_contain_text(f"YES {code}")
    await expect(answered.locator(".messages li.out").last).to_contain_text(
        f"Thank you: you accepted page {code}."
    )

    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Board").click()
    card = page.locator(".incident").filter(has_text="Line of duty death")
    row = card.locator(".assignments li").filter(has_text=name)
    await expect(row.get_by_text("accepted", exact=True)).to_be_visible()
    await expect(card.get_by_text("1 of 2 specialists accepted")).to_be_visible()


async def test_an_unanswered_page_is_called_and_a_key_on_the_test_phone_answers(
    system: ConsoleSystem, page: Page
) -> None:
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    await page.goto(f"{system.console}/test-phones")
    phones = page.locator(".phone")
    await expect(phones.filter(has_text="YES ")).to_have_count(2)

    # nobody answers the SMS: the dispatcher calls, and the call's words show on the phone
    system.clock.advance(system.settings.sms_ack_timeout_s + 1)
    called = phones.filter(has=page.get_by_role("button", name="Press 1"))
    await expect(called).to_have_count(2)
    first = called.first
    name = (await first.locator("h2").inner_text()).split("+")[0].strip()
    await expect(first.locator(".messages li.out", has_text="Call:")).to_have_count(1)
    await first.get_by_role("button", name=f"Press 1 to accept, as {name}").click()
    await expect(page.get_by_role("status")).to_have_text("Sent.")
    answered = phones.filter(has_text=name)
    await expect(answered.locator(".messages li.in").last).to_have_text(re.compile("pressed 1"))
    await check_accessibility(page, "test-phones-call")
    await screenshot(page, "test-phones-call")

    await page.goto(f"{system.console}/board")
    row = page.locator(".incident .assignments li").filter(has_text=name)
    await expect(row.get_by_text("accepted", exact=True)).to_be_visible()
