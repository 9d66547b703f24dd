"""Every page of the console passes axe's WCAG 2.1 AA check (no serious or critical violation)
in the states people see it in, and is kept as screenshots at a desktop and a phone size in
test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, ViewportSize, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist
from tests.harness.browser import check_accessibility, screenshot

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        await started.roster(
            "kcmo",
            [specialist("kcmo", n) for n in range(1, 5)]
            + [
                specialist("kcmo", 5, training_current=False),
                specialist("kcmo", 6, status="suspended", on_duty=True),
            ],
        )
        yield started


async def checked(page: Page, name: str) -> None:
    """axe at the desktop and the phone size; nothing wider than the phone; screenshots."""
    await check_accessibility(page, name)
    desktop = page.viewport_size
    await page.set_viewport_size(PHONE)
    try:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width} px wide on a {PHONE['width']} px phone"
        await check_accessibility(page, f"{name}-phone")
    finally:
        if desktop is not None:
            await page.set_viewport_size(desktop)
    await screenshot(page, name)


async def test_the_coordinators_pages(system: ConsoleSystem, page: Page) -> None:
    await page.goto(f"{system.console}/sign-in")
    await checked(page, "sign-in")
    await page.get_by_label("Email").fill("nobody@kcmo.example.org")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_label("Code from your authenticator app").fill("123456")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await checked(page, "sign-in-refused")

    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    await expect(page.get_by_text("No open incident")).to_be_visible()
    await checked(page, "board-empty")

    lodd = await system.send_cad(
        "kcmo", secret, example("02-kcmo-line-of-duty-death", external_id="CAD-26-004512")
    )
    await system.send_cad("kcmo", secret, example("04-kcmo-illness-no-consent"))
    await system.send_cad("kcmo", secret, example("07-kcmo-pursuit-outside-area"))
    # three of the four who could go were in the shooting: nobody is left for its second place
    shooting = example("01-kcmo-ois-suspect-killed")
    shooting["persons"] += [
        {"kind": "member", "member_id": f"KC00{n}", "outcome": "none", "on_duty": True}
        for n in (1, 2, 3)
    ]
    await system.send_cad("kcmo", secret, shooting)
    await expect(page.locator(".incident")).to_have_count(4)
    await expect(page.locator(".incident").get_by_text("paged by SMS")).to_have_count(3)
    await checked(page, "board-full")

    await page.goto(f"{system.console}/test-phones")
    phones = page.locator(".phone").filter(has_text="YES ")
    await expect(phones).to_have_count(3)
    first = phones.first
    text = await first.locator(".messages li.out").first.inner_text()
    await first.get_by_role("textbox").fill(f"YES {text.split('YES ')[1][:4]}")
    await first.get_by_role("button", name="Send").click()
    await expect(page.locator(".messages li.in")).to_have_count(1)
    await checked(page, "test-phones")

    await page.goto(system.incident_url(lodd))
    await expect(page.locator(".assign-table tbody tr")).to_have_count(2)
    await checked(page, "incident")

    await page.goto(f"{system.console}/alerts")
    alerts = page.locator(".alert-list li")
    await expect(alerts.first).to_be_visible()
    await alerts.first.get_by_role("button", name="Acknowledge").click()
    await expect(page.get_by_text("Acknowledged by")).to_be_visible()
    await checked(page, "alerts")

    await page.goto(f"{system.console}/roster")
    await checked(page, "roster")
    await page.get_by_role("link", name="Edit Specialist KCMO 6").click()
    await checked(page, "roster-entry")

    await page.goto(f"{system.console}/incidents/00000000-0000-4000-8000-000000000000")
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await checked(page, "error-not-found")


async def test_the_requesters_pages(system: ConsoleSystem, page: Page) -> None:
    commander = await system.account("commander")
    await system.sign_in(page, commander)
    await expect(page.get_by_role("heading", name="Request the Peer Support Team")).to_be_visible()
    await checked(page, "request")

    await page.get_by_label("Address or cross streets").fill("12th St & Grand Blvd")
    await page.get_by_role("button", name="Request the team").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await checked(page, "request-refused")

    await page.get_by_label("Address or cross streets").fill("")
    await page.get_by_label("Member ids").fill("E1001")
    await page.get_by_role("button", name="Request the team").click()
    await expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    await checked(page, "my-requests")

    answer = await page.goto(f"{system.console}/board")
    assert answer is not None and answer.status == 403
    await checked(page, "error-not-allowed")


async def test_the_chiefs_statistics(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("chief"))
    await expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
    await checked(page, "statistics")
