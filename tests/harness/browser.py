"""Real-browser checks for the tests in `tests/browser/`: Debian's Chromium through Playwright.

- Chromium is the machine's (`/usr/bin/chromium`, from Debian's `chromium` package, which
  `scripts/bootstrap` installs as root; `PST_CHROMIUM` names another). Playwright never
  downloads a browser of its own: it launches that executable, and
  `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1` is set for every process the tests start.
- `check_accessibility(page, name)` runs axe-core (pinned in `tests/browser/web-tools.json`,
  fetched into `.tools/web/axe.min.js` by `scripts/bootstrap`) against the page as it is, and
  fails listing every serious or critical WCAG 2.1 A/AA violation (axe's records of them go to
  `test-artifacts/accessibility/`).
- `screenshot(page, name)` keeps full-page PNGs at a desktop and a phone size in
  `test-artifacts/screenshots/`, for a person to look at after the run.

How axe gets into a page under a strict Content-Security-Policy (the console sends
`default-src 'self'`, no inline scripts): `page.add_script_tag` adds an inline `<script>`,
which that policy blocks, and a context with `bypass_csp=True` would stop testing the policy
the console really sends. So the file's source is run with `page.evaluate`, which Chromium runs
through the DevTools protocol, outside the page's CSP; the page's own scripts still live under
the policy, and `axe.run` needs nothing the policy forbids.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = REPO_ROOT / ".tools" / "web" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
ACCESSIBILITY = ARTIFACTS / "accessibility"

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
FAILING_IMPACTS = frozenset({"serious", "critical"})
SCREENSHOT_SIZES = ((1280, 800), (390, 844))
DEFAULT_VIEWPORT = {"width": 1280, "height": 800}
DEFAULT_TIMEOUT_MS = 10_000
TARGETS_SHOWN = 3

_ARTIFACT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class AccessibilityViolations(AssertionError):
    """axe found serious or critical WCAG violations; `violations` holds axe's own records."""

    def __init__(self, name: str, violations: list[dict[str, Any]]) -> None:
        self.name = name
        self.violations = violations
        lines = [f"{name}: {len(violations)} serious or critical accessibility violation(s)"]
        for violation in violations:
            targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]]
            shown = "; ".join(targets[:TARGETS_SHOWN])
            more = (
                f" (+{len(targets) - TARGETS_SHOWN} more)" if len(targets) > TARGETS_SHOWN else ""
            )
            lines.append(
                f"- {violation['id']} [{violation['impact']}] {violation['help']}: {shown}{more}"
            )
        super().__init__("\n".join(lines))


def chromium_executable(configured: str | None) -> Path:
    """The Chromium to launch: `configured` (from PST_CHROMIUM) or Debian's; fails if missing."""
    executable = Path(configured) if configured else DEFAULT_CHROMIUM
    if not os.access(executable, os.X_OK):
        raise FileNotFoundError(
            f"the browser tests need Chromium at {executable}: install Debian's `chromium` "
            "package (scripts/bootstrap does when run as root) or set PST_CHROMIUM to a Chromium"
        )
    return executable


def chromium_arguments() -> list[str]:
    """Chromium's sandbox refuses to run as root; as root, the tests run it without."""
    return ["--no-sandbox"] if os.geteuid() == 0 else []


async def launch_chromium(playwright: Playwright, executable: Path) -> Browser:
    """Headless Chromium from `executable`; never a browser Playwright would download."""
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    return await playwright.chromium.launch(
        executable_path=executable, headless=True, args=chromium_arguments()
    )


async def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A fresh context (own cookies and storage) at 1280x800, en-US, with a 10 s timeout.

    `options` go to `Browser.new_context` and win over these defaults.
    """
    settings: dict[str, Any] = {"viewport": DEFAULT_VIEWPORT, "locale": "en-US"}
    settings.update(options)
    context = await browser.new_context(**settings)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


def _checked_name(name: str) -> str:
    if not _ARTIFACT_NAME.fullmatch(name):
        raise ValueError(f"{name!r}: use letters, digits, '.', '_' and '-' for artifact names")
    return name


async def _inject_axe(page: Page) -> None:
    if await page.evaluate("() => typeof window.axe === 'object'"):
        return
    if not AXE_SCRIPT.is_file():
        raise FileNotFoundError(
            f"{AXE_SCRIPT} is missing: run scripts/bootstrap, which fetches the pinned axe-core"
        )
    # Not add_script_tag: an inline <script> is blocked by the page's CSP (see the docstring).
    await page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))


async def check_accessibility(page: Page, name: str) -> None:
    """Fail (AccessibilityViolations) on any serious or critical WCAG 2.1 A/AA violation.

    Checks the page as it is now: call it again after a swap or a dialog opens. `name` says
    which state of which page it was, in the failure; axe's full records of the failing
    violations are kept in test-artifacts/accessibility/<name>.json.
    """
    await _inject_axe(page)
    results: dict[str, Any] = await page.evaluate(
        """(tags) => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        list(WCAG_TAGS),
    )
    failing = [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]
    if failing:
        ACCESSIBILITY.mkdir(parents=True, exist_ok=True)
        report = ACCESSIBILITY / f"{_checked_name(name)}.json"
        report.write_text(json.dumps(failing, indent=2) + "\n", encoding="utf-8")
        raise AccessibilityViolations(name, failing)


async def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page PNGs at 1280x800 and 390x844 in test-artifacts/screenshots/; returns them.

    Files are `<name>-1280x800.png` and `<name>-390x844.png`; the page's viewport is put back
    afterwards. Animations are finished first, so the pictures do not depend on timing.
    """
    _checked_name(name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    saved: list[Path] = []
    try:
        for width, height in SCREENSHOT_SIZES:
            await page.set_viewport_size({"width": width, "height": height})
            path = SCREENSHOTS / f"{name}-{width}x{height}.png"
            await page.screenshot(path=path, full_page=True, animations="disabled")
            saved.append(path)
    finally:
        if original is not None:
            await page.set_viewport_size(original)
    return saved
