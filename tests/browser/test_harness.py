"""The browser harness itself, against a tiny site on loopback that sends the console's strict
Content-Security-Policy: a clean page passes the accessibility check, a page with an image
without alt text and low-contrast text fails it, screenshots are real PNGs of the right sizes,
and the vendored htmx and its SSE extension run under the policy."""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from playwright.async_api import Page, expect

from pst.localstack.ports import free_port
from tests.harness.browser import (
    SCREENSHOTS,
    AccessibilityViolations,
    check_accessibility,
    screenshot,
)

VENDOR = Path(__file__).resolve().parents[2] / "services" / "console" / "static" / "vendor"
POLICY = "default-src 'self'"

CLEAN_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Harness check</title>
  <link rel="stylesheet" href="/static/site.css">
  <script src="/static/app.js" defer></script>
</head>
<body>
  <main>
    <h1>Peer Support Team</h1>
    <p>Two specialists are on their way.</p>
    <p id="script-status">Scripts from this server have not run.</p>
    <script>document.querySelector("h1").textContent = "An inline script ran";</script>
  </main>
</body>
</html>
"""

BROKEN_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Harness check: broken</title>
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
  <main>
    <h1>Roster</h1>
    <img src="/static/dot.svg" width="40" height="40">
    <p class="faint">Hard to read: light grey on white.</p>
  </main>
</body>
</html>
"""

HTMX_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Harness check: htmx</title>
  <script src="/vendor/htmx.min.js"></script>
  <script src="/vendor/sse.min.js"></script>
</head>
<body>
  <main hx-ext="sse" sse-connect="/events">
    <h1>Live board</h1>
    <div id="live" sse-swap="message">Waiting for the first event.</div>
  </main>
</body>
</html>
"""

SITE_CSS = """
body { font-family: sans-serif; margin: 2rem; color: #1a1a1a; background: #ffffff; }
h1 { color: #0b3d91; }
.faint { color: #d0d0d0; }
"""

APP_JS = """
document.getElementById("script-status").textContent = "Scripts from this server ran.";
"""

DOT_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">
<circle cx="20" cy="20" r="18" fill="#0b3d91"/></svg>"""

STATIC = {
    "site.css": (SITE_CSS, "text/css"),
    "app.js": (APP_JS, "text/javascript"),
    "dot.svg": (DOT_SVG, "image/svg+xml"),
}


def _html(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/html")


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    body, content_type = STATIC[name]
    return web.Response(text=body, content_type=content_type)


async def _vendor(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in {"htmx.min.js", "sse.min.js"}:
        raise web.HTTPNotFound()
    return web.Response(body=(VENDOR / name).read_bytes(), content_type="text/javascript")


async def _events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"retry: 60000\nevent: message\ndata: <p>Live update received.</p>\n\n")
    return response


@web.middleware
async def _strict_policy(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Content-Security-Policy"] = POLICY
    return response


@pytest.fixture(scope="module")
async def site() -> AsyncIterator[str]:
    """The site's base URL, on 127.0.0.1 and a free port."""

    async def clean(_: web.Request) -> web.Response:
        return _html(CLEAN_PAGE)

    async def broken(_: web.Request) -> web.Response:
        return _html(BROKEN_PAGE)

    async def htmx(_: web.Request) -> web.Response:
        return _html(HTMX_PAGE)

    app = web.Application(middlewares=[_strict_policy])
    app.router.add_get("/", clean)
    app.router.add_get("/broken", broken)
    app.router.add_get("/htmx", htmx)
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/vendor/{name}", _vendor)
    app.router.add_get("/events", _events)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_a_clean_page_passes_under_the_strict_policy(page: Page, site: str) -> None:
    response = await page.goto(site)
    assert response is not None and response.headers["content-security-policy"] == POLICY
    await expect(page.get_by_text("Scripts from this server ran.")).to_be_visible()
    # the policy holds: the inline script was blocked, the page's own file ran
    await expect(page.get_by_role("heading", level=1)).to_have_text("Peer Support Team")

    await check_accessibility(page, "harness-clean")


async def test_the_check_fails_on_serious_violations(page: Page, site: str) -> None:
    await page.goto(f"{site}/broken")
    await expect(page.get_by_role("heading", name="Roster")).to_be_visible()

    with pytest.raises(AccessibilityViolations) as raised:
        await check_accessibility(page, "harness-broken")

    found = {violation["id"] for violation in raised.value.violations}
    assert {"image-alt", "color-contrast"} <= found
    # one line per violation: its id, impact, help and the elements (axe's shortest selectors)
    lines = str(raised.value).splitlines()
    assert lines[0] == "harness-broken: 2 serious or critical accessibility violation(s)"
    assert any(
        line.startswith("- image-alt [critical] ") and line.endswith(": img") for line in lines
    )
    assert any(
        line.startswith("- color-contrast [serious] ") and line.endswith(": p") for line in lines
    )


async def test_screenshots_are_full_page_pngs_at_both_sizes(page: Page, site: str) -> None:
    await page.goto(site)
    await expect(page.get_by_text("Scripts from this server ran.")).to_be_visible()
    # taller than either viewport, to show the pictures take the whole page
    await page.evaluate(
        """() => { for (let n = 1; n <= 30; n++) {
            const line = document.createElement("p");
            line.textContent = `Specialist ${n}: on the way.`;
            document.querySelector("main").append(line);
        } }"""
    )

    saved = await screenshot(page, "harness-clean")

    assert saved == [
        SCREENSHOTS / "harness-clean-1280x800.png",
        SCREENSHOTS / "harness-clean-390x844.png",
    ]
    (desktop_width, desktop_height), (phone_width, phone_height) = map(png_size, saved)
    assert (desktop_width, phone_width) == (1280, 390)
    assert desktop_height > 800 and phone_height > 844
    assert page.viewport_size == {"width": 1280, "height": 800}


async def test_vendored_htmx_and_its_sse_extension_run(page: Page, site: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))
    htmx_version = next(f["version"] for f in manifest["files"] if f["package"] == "htmx.org")

    await page.goto(f"{site}/htmx")

    assert await page.evaluate("() => htmx.version") == htmx_version
    await expect(page.get_by_text("Live update received.")).to_be_visible()
    assert errors == []
    await check_accessibility(page, "harness-htmx")
