"""The request form on a phone, in a real browser: a commander fills in what happened, when
and which members, sends it, and follows it on "My requests"; the coordinators' board shows the
incident at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, specialist
from tests.harness.browser import new_context
from tests.harness.waiting import eventually

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=True) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    context = await new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def test_a_commander_requests_the_team_from_a_phone(
    system: ConsoleSystem, phone: Page, page: Page
) -> None:
    coordinator = await system.account("coordinator")
    await system.sign_in(page, coordinator)
    await expect(page.get_by_text("No open incident")).to_be_visible()

    commander = await system.account("commander")
    await system.sign_in(phone, commander)
    await expect(phone).to_have_url(f"{system.console}/request")
    await expect(phone.get_by_role("heading", name="Request the Peer Support Team")).to_be_visible()
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the form is {width} px wide on a 390 px phone"
    await expect(phone.get_by_text("Send a report from a file")).to_have_count(0)

    await phone.get_by_label("What happened").select_option("use_of_force")
    await phone.get_by_label("When (your local time)").fill("2026-11-20T22:40")
    await phone.get_by_label("Member ids").fill("E1001, E1002")
    await phone.get_by_label("Harm to them").select_option("injury")
    await phone.get_by_label("Your incident or case number (optional)").fill("KCPD-26-1234")
    await phone.get_by_role("button", name="Request the team").click()

    await expect(phone).to_have_url(f"{system.console}/my-requests?requested=1")
    await expect(phone.get_by_role("status")).to_have_text(
        "Your request was sent. Its status shows here."
    )
    mine = phone.locator(".my-reports li")
    await expect(mine).to_have_count(1)  # at once, even before the pipeline has decided

    async def decided() -> bool:  # "My requests" is not live: it shows the status at load
        await phone.reload()
        return await mine.get_by_text("activate the team").count() == 1

    await eventually(decided, what="the request's decision on My requests")
    await expect(mine.get_by_text("Use of force")).to_be_visible()
    await expect(mine).to_contain_text("Fri 20 Nov 22:40")
    await expect(mine).to_contain_text("0 of 2 specialists accepted")
    html = await phone.content()
    assert "Specialist KCMO" not in html and "E1001" not in html

    card = page.locator(".incident").filter(has_text="Use of force")
    await expect(card).to_be_visible()
    await expect(card.get_by_text("activate the team")).to_be_visible()
    await expect(card.get_by_text("KCPD-26-1234")).to_be_visible()
    await expect(card.get_by_text("830 §III.E.6")).to_be_visible()


async def test_a_request_with_a_mistake_comes_back_with_what_is_wrong(
    system: ConsoleSystem, phone: Page
) -> None:
    await system.sign_in(phone, await system.account("commander"))
    await phone.get_by_label("Address or cross streets").fill("12th St & Grand Blvd")
    await phone.get_by_role("button", name="Request the team").click()
    await expect(phone.get_by_role("alert")).to_contain_text("latitude and longitude")
    # what was typed is kept
    await expect(phone.get_by_label("Address or cross streets")).to_have_value(
        "12th St & Grand Blvd"
    )
    await (
        phone.get_by_role("navigation", name="Console")
        .get_by_role("link", name="My requests")
        .click()
    )
    await expect(phone.get_by_text("You have not requested the team")).to_be_visible()
