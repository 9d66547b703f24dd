"""The team's directory in a real browser: the manager makes the link; a member opens it in a
browser of their own without signing in and sees the active specialists (a phone only once it
is confirmed); the manager rotates it and the old link says it is no longer valid. Every page
passes axe at 1280 and 390 wide; screenshots of each, and the PDF for the lodge boards as
pictures, are kept in test-artifacts/directory/ for a person to look at."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from shared.clock import ManualClock
from shared.kafka.topics import Topics
from shared.roster import phones
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, specialist
from tests.harness.browser import ARTIFACTS, check_accessibility, new_context

DIRECTORY_ARTIFACTS = ARTIFACTS / "directory"
SIZES: tuple[ViewportSize, ...] = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        await started.roster(
            "kcmo",
            [
                specialist("kcmo", 1, name="Avery Brooks", languages=["en", "es"]),
                specialist("kcmo", 2, name="Jordan Ellis"),
                specialist("kcmo", 3, name="Casey Morgan", languages=["en", "vi"]),
                specialist("kcmo", 4, name="Morgan Diaz", status="inactive"),
            ],
        )
        async with started.database() as session:  # Jordan's number is being confirmed again
            await phones.request_confirmation(
                session,
                Topics(started.settings.kafka_topic_prefix),
                agency="kcmo",
                member_id="KC002",
                phone="+18165550002",
                now=clock.now(),
            )
        yield started


async def checked(page: Page, name: str) -> None:
    """axe and a full-page screenshot at each size; nothing wider than the phone."""
    original = page.viewport_size
    DIRECTORY_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for size in SIZES:
            await page.set_viewport_size(size)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], f"{name}: {width} px wide at {size['width']} px"
            await check_accessibility(page, f"directory-{name}-{size['width']}")
            await page.screenshot(
                path=DIRECTORY_ARTIFACTS / f"{name}-{size['width']}.png",
                full_page=True,
                animations="disabled",
            )
    finally:
        if original is not None:
            await page.set_viewport_size(original)


def _pictures(pdf: Path, prefix: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(prefix)], check=True)


async def _link(page: Page) -> str:
    href = await page.get_by_role("link", name="/console/directory/").get_attribute("href")
    assert href is not None
    return href


async def test_a_member_opens_the_directory_without_signing_in_until_it_is_rotated(
    system: ConsoleSystem, page: Page, browser: Browser
) -> None:
    await system.sign_in(page, await system.account("manager"))
    nav = page.get_by_role("navigation", name="Console")
    await nav.get_by_role("link", name="Directory").click()
    await expect(page.get_by_role("heading", name="Directory", level=1)).to_be_visible()
    await expect(page.get_by_text("There is no link yet.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Who is listed (3)")).to_be_visible()
    await checked(page, "manage-no-link")

    await page.get_by_role("button", name="Create the link").click()
    await expect(page.get_by_role("status")).to_have_text(
        "The link was made. Put it on the intranet."
    )
    first = await _link(page)
    assert first.startswith(f"{system.console}/directory/")
    await expect(page.get_by_text("The old link stops working at once")).to_be_visible()
    await checked(page, "manage")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download the PDF").click()
    board = DIRECTORY_ARTIFACTS / "board.pdf"
    await (await download.value).save_as(board)
    assert board.read_bytes().startswith(b"%PDF")
    await asyncio.to_thread(_pictures, board, DIRECTORY_ARTIFACTS / "board")

    member_context = await new_context(browser)
    try:
        member = await member_context.new_page()
        answer = await member.goto(first)
        assert answer is not None and answer.status == 200
        await expect(
            member.get_by_role("heading", name="Peer Support Team: who to call")
        ).to_be_visible()
        await expect(member.get_by_text("Kansas City Missouri Police Department")).to_be_visible()
        rows = member.locator("table.directory-list tbody tr")
        await expect(rows).to_have_count(3)
        avery = rows.filter(has=member.get_by_role("rowheader", name="Avery Brooks"))
        await expect(avery.get_by_role("link", name="(816) 555-0001")).to_have_attribute(
            "href", "tel:+18165550001"
        )
        await expect(avery.get_by_role("cell").last).to_have_text("English, Spanish")
        jordan = rows.filter(has=member.get_by_role("rowheader", name="Jordan Ellis"))
        await expect(jordan.get_by_text("number being confirmed")).to_be_visible()
        assert "555-0002" not in await member.content()
        assert "Morgan Diaz" not in await member.content()
        await checked(member, "member-page")
        await member.emulate_media(media="print")
        await member.screenshot(path=DIRECTORY_ARTIFACTS / "member-page-print.png", full_page=True)
        await member.emulate_media(media="screen")
        assert await member_context.cookies() == [], "a look sets no cookie"

        await page.get_by_role("button", name="Rotate the link").click()
        await expect(page.get_by_role("status")).to_contain_text("the old one no longer works")
        second = await _link(page)
        assert second != first

        gone = await member.goto(first)
        assert gone is not None and gone.status == 404
        await expect(
            member.get_by_role("heading", name="This link is no longer valid")
        ).to_be_visible()
        await expect(member.get_by_text("Ask the team's coordinator for it.")).to_be_visible()
        assert "Kansas City" not in await member.content()
        await checked(member, "member-old-link")

        answer = await member.goto(second)
        assert answer is not None and answer.status == 200
        await expect(member.get_by_role("rowheader", name="Casey Morgan")).to_be_visible()
        assert await member_context.cookies() == []
    finally:
        await member_context.close()
