"""Real-browser tests: Debian's Chromium through Playwright (see tests/harness/browser.py).

Every test in this folder is marked `browser` (`-m browser` selects them, `-m "not browser"`
skips them); the fixtures are in `conftest.py`.
"""
