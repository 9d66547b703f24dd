"""Live updates leave the keyboard where it was: a card of the board swapped while its link has
the focus keeps the focus on the link, and a test phone's reply box keeps what is being typed in
it while the phones are re-sorted by a new message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


async def focused_id(page: Page) -> str:
    found: str = await page.evaluate("document.activeElement ? document.activeElement.id : ''")
    return found


async def test_a_swapped_card_keeps_the_focus_on_its_link(
    system: ConsoleSystem, page: Page
) -> None:
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, await system.account("coordinator"))
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    card = page.locator(".incident").filter(has_text="Line of duty death")
    await expect(card.get_by_text("paged by SMS")).to_have_count(2)
    await card.get_by_role("link", name="Line of duty death").focus()
    assert await focused_id(page) == f"open-{incident_id}"

    system.clock.advance(system.settings.sms_ack_timeout_s + 1)  # nobody answered: calls
    await expect(card.get_by_text("being called")).to_have_count(2)
    assert await focused_id(page) == f"open-{incident_id}", "the swap took the focus away"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Line of duty death", level=1)).to_be_visible()


async def test_a_reply_being_typed_survives_a_new_message(
    system: ConsoleSystem, page: Page
) -> None:
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/test-phones")
    await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    phones = page.locator(".phone")
    await expect(phones.filter(has_text="YES ")).to_have_count(2)
    box = page.get_by_label("Reply as Specialist KCMO 3")
    await box.fill("HELP")  # a phone with nothing yet, placed after the texted ones
    await box.focus()

    # a second incident texts others: the list is rendered again and sorted anew
    await system.send_cad("kcmo", secret, example("05-kcmo-illness-with-consent"))
    await expect(phones.filter(has_text="member illness")).to_have_count(2)
    await expect(page.get_by_label("Reply as Specialist KCMO 3")).to_have_value("HELP")
    assert await focused_id(page) == "reply-18165550003"
