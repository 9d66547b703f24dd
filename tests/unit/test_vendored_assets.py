"""The console's vendored web assets are exactly the files their manifest pins (fetched and
checked by scripts/vendor_web_assets.py): nobody edits them by hand, and nothing unpinned lies
beside them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDOR = REPO_ROOT / "services" / "console" / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"
AXE_MANIFEST = REPO_ROOT / "tests" / "browser" / "web-tools.json"
PIN_FIELDS = {"package", "version", "tarball", "integrity", "file", "saved_as", "sha256"}


def pins(manifest: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return entries


@pytest.mark.parametrize("pin", pins(MANIFEST), ids=lambda pin: str(pin["saved_as"]))
def test_each_vendored_file_is_the_pinned_one(pin: dict[str, Any]) -> None:
    data = (VENDOR / pin["saved_as"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == pin["sha256"], (
        f"{pin['saved_as']} is not {pin['package']}@{pin['version']} {pin['file']}: "
        "run scripts/vendor_web_assets.py sync (or pin a new version) instead of editing it"
    )


@pytest.mark.parametrize("manifest", [MANIFEST, AXE_MANIFEST], ids=lambda path: path.name)
def test_every_pin_names_its_npm_tarball_and_integrity(manifest: Path) -> None:
    for pin in pins(manifest):
        assert set(pin) == PIN_FIELDS
        assert pin["integrity"].startswith("sha512-")
        assert pin["tarball"].startswith("https://registry.npmjs.org/")
        assert pin["tarball"].endswith(f"-{pin['version']}.tgz")


def test_the_folder_holds_only_the_pinned_files() -> None:
    present = {path.name for path in VENDOR.iterdir()}
    assert present == {"MANIFEST.json"} | {pin["saved_as"] for pin in pins(MANIFEST)}


def test_htmx_and_its_sse_extension_are_2x() -> None:
    versions = {pin["package"]: pin["version"] for pin in pins(MANIFEST)}
    assert set(versions) == {"htmx.org", "htmx-ext-sse"}
    assert all(version.startswith("2.") for version in versions.values())
