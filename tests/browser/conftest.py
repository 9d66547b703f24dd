"""Fixtures for the real-browser tests: one headless Chromium for the session, and a fresh
context and page for each test.

    async def test_board(page: Page) -> None:
        await page.goto(url)
        await expect(page.get_by_role("heading", name="Board")).to_be_visible()
        await check_accessibility(page, "board")
        await screenshot(page, "board")

`browser_context` is the page's context (its cookies and storage are the test's own); a test
that needs a second user opens another with `new_context(browser)` and closes it. Chromium is
`PST_CHROMIUM` or `/usr/bin/chromium`; without it every browser test errors with what to do.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from tests.harness.browser import chromium_executable, launch_chromium, new_context

HERE = Path(__file__).resolve().parent
_CHROMIUM_SETTING = pytest.StashKey[str | None]()


def pytest_configure(config: pytest.Config) -> None:
    # Read now: the session's first fixture takes every PST_* variable out of the environment.
    config.stash[_CHROMIUM_SETTING] = os.environ.get("PST_CHROMIUM")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path(pytestconfig: pytest.Config) -> Path:
    try:
        return chromium_executable(pytestconfig.stash[_CHROMIUM_SETTING])
    except FileNotFoundError as error:
        missing = str(error)
    pytest.fail(missing, pytrace=False)


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as started:
        yield started


@pytest.fixture(scope="session")
async def browser(playwright: Playwright, chromium_path: Path) -> AsyncIterator[Browser]:
    launched = await launch_chromium(playwright, chromium_path)
    try:
        yield launched
    finally:
        await launched.close()


@pytest.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await new_context(browser)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(browser_context: BrowserContext) -> AsyncIterator[Page]:
    opened = await browser_context.new_page()
    yield opened
    # closed with its context
