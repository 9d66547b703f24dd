"""The check every roster and training page gets in the browser tests (issue 14): axe at 1280
and at 390 wide, nothing wider than the phone, and full-page screenshots at both sizes kept in
test-artifacts/lifecycle/ for a person to look at."""

from __future__ import annotations

from playwright.async_api import Page, ViewportSize

from tests.harness.browser import ARTIFACTS, SCREENSHOT_SIZES, check_accessibility

PHONE: ViewportSize = {"width": 390, "height": 844}
LIFECYCLE = ARTIFACTS / "lifecycle"


async def checked(page: Page, name: str) -> None:
    await check_accessibility(page, f"lifecycle-{name}")
    desktop = page.viewport_size
    try:
        await page.set_viewport_size(PHONE)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width} px wide on a {PHONE['width']} px phone"
        await check_accessibility(page, f"lifecycle-{name}-phone")
        LIFECYCLE.mkdir(parents=True, exist_ok=True)
        for width, height in SCREENSHOT_SIZES:
            await page.set_viewport_size({"width": width, "height": height})
            await page.screenshot(
                path=LIFECYCLE / f"{name}-{width}x{height}.png",
                full_page=True,
                animations="disabled",
            )
    finally:
        if desktop is not None:
            await page.set_viewport_size(desktop)
