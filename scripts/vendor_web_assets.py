"""Fetch pinned files out of npm packages, checking the tarballs against pinned integrity.

The console serves its own copies of htmx and its SSE extension (agency networks block CDNs), so
they are checked in under `services/console/static/vendor/`, described by `MANIFEST.json` there:
for each file the npm package and version, the tarball's URL and `dist.integrity` (the sha512
the registry publishes), the path taken from inside the package, and the sha256 of that file.
`tests/unit/test_vendored_assets.py` holds the checked-in files to those sha256s. The browser
tests' axe-core is pinned the same way in `tests/browser/web-tools.json`, but fetched by
`scripts/bootstrap` into `.tools/web/` instead of being checked in.

Uses only the standard library (bootstrap runs it with the machine's Python) and talks only to the
npm registry. A tarball is read in memory; nothing in it is extracted but the pinned file.

    python3 scripts/vendor_web_assets.py sync       # the console's files, verified
    python3 scripts/vendor_web_assets.py --manifest tests/browser/web-tools.json \\
        --into .tools/web sync --quiet               # what bootstrap does for axe-core
    python3 scripts/vendor_web_assets.py pin htmx.org@2.0.11 dist/htmx.min.js
                                                     # (re)pin a file, from the registry

`pin` is the only command that trusts the registry's metadata: it records the version's
`dist.integrity` and tarball URL, downloads and checks the tarball, and writes the file and its
sha256. `sync` trusts only the manifest: a tarball or a file that differs from its pins fails.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CONSOLE_MANIFEST = REPO_ROOT / "services" / "console" / "static" / "vendor" / "MANIFEST.json"
REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 60


class VendorError(Exception):
    """A download, an integrity check or a manifest that is not what it should be."""


@dataclass(frozen=True)
class PinnedFile:
    """One file taken from one npm package version; saved as `saved_as` in the target folder."""

    package: str
    version: str
    tarball: str
    integrity: str
    file: str
    saved_as: str
    sha256: str


def load_manifest(path: Path) -> list[PinnedFile]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [PinnedFile(**entry) for entry in document["files"]]


def write_manifest(path: Path, pins: Sequence[PinnedFile]) -> None:
    document = {
        "about": (
            "Files taken from npm packages; written by scripts/vendor_web_assets.py, "
            "do not edit by hand."
        ),
        "files": [asdict(pin) for pin in sorted(pins, key=lambda pin: pin.saved_as)],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_integrity(data: bytes, integrity: str) -> None:
    """Refuse `data` unless it matches the Subresource Integrity string (sha512 only)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or not expected:
        raise VendorError(f"only sha512 integrity is accepted, not {integrity!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != expected:
        raise VendorError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}")


def _get(url: str) -> bytes:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "https" or f"{parsed.scheme}://{parsed.netloc}" != REGISTRY:
        raise VendorError(f"refusing to fetch {url}: only {REGISTRY} is used")
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            body: bytes = response.read()
    except OSError as error:
        raise VendorError(f"could not fetch {url}: {error}") from error
    return body


def registry_dist(package: str, version: str) -> dict[str, Any]:
    """The registry's `dist` object (tarball URL, integrity) of one exact version."""
    name = urllib.parse.quote(package, safe="@")
    metadata = json.loads(_get(f"{REGISTRY}/{name}/{urllib.parse.quote(version)}"))
    if metadata.get("version") != version:
        raise VendorError(f"{package}@{version}: the registry answered {metadata.get('version')}")
    dist: dict[str, Any] = metadata["dist"]
    return dist


def file_from_tarball(tarball: bytes, inner_path: str) -> bytes:
    """One file of an npm tarball, by its path inside the package (after `package/`)."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member in archive.getmembers():
            _, _, path = member.name.partition("/")
            if path == inner_path and member.isfile():
                extracted = archive.extractfile(member)
                assert extracted is not None
                return extracted.read()
    raise VendorError(f"{inner_path} is not in the tarball")


def fetch_verified(pin: PinnedFile) -> bytes:
    """Download the pin's tarball, check its integrity, and return the pinned file, checked."""
    tarball = _get(pin.tarball)
    try:
        check_integrity(tarball, pin.integrity)
    except VendorError as error:
        raise VendorError(f"{pin.package}@{pin.version} tarball: {error}") from error
    data = file_from_tarball(tarball, pin.file)
    if sha256_hex(data) != pin.sha256:
        raise VendorError(
            f"{pin.package}@{pin.version} {pin.file}: sha256 {sha256_hex(data)}, "
            f"the manifest pins {pin.sha256}"
        )
    return data


def is_in_place(pin: PinnedFile, into: Path) -> bool:
    target = into / pin.saved_as
    return target.is_file() and sha256_hex(target.read_bytes()) == pin.sha256


def sync(manifest: Path, into: Path, *, quiet: bool = False) -> list[Path]:
    """Make `into` hold every file of the manifest, as pinned; returns the files written."""
    written: list[Path] = []
    for pin in load_manifest(manifest):
        if is_in_place(pin, into):
            continue
        print(f"vendor-web-assets: fetching {pin.package}@{pin.version} {pin.file}")
        data = fetch_verified(pin)
        into.mkdir(parents=True, exist_ok=True)
        target = into / pin.saved_as
        target.write_bytes(data)
        written.append(target)
    if not quiet:
        print(f"vendor-web-assets: {into} holds every file of {manifest.name}")
    return written


def pin(manifest: Path, into: Path, spec: str, inner_path: str, saved_as: str | None) -> PinnedFile:
    """Pin `inner_path` of `package@version` (integrity from the registry) and save the file."""
    package, at, version = spec.rpartition("@")
    if not at or not package or not version:
        raise VendorError(f"expected PACKAGE@VERSION, not {spec!r}")
    dist = registry_dist(package, version)
    provisional = PinnedFile(
        package=package,
        version=version,
        tarball=str(dist["tarball"]),
        integrity=str(dist["integrity"]),
        file=inner_path,
        saved_as=saved_as or Path(inner_path).name,
        sha256="",
    )
    tarball = _get(provisional.tarball)
    check_integrity(tarball, provisional.integrity)
    data = file_from_tarball(tarball, inner_path)
    pinned = PinnedFile(**{**asdict(provisional), "sha256": sha256_hex(data)})
    others = (
        [p for p in load_manifest(manifest) if p.saved_as != pinned.saved_as]
        if manifest.exists()
        else []
    )
    into.mkdir(parents=True, exist_ok=True)
    (into / pinned.saved_as).write_bytes(data)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(manifest, [*others, pinned])
    print(f"vendor-web-assets: pinned {spec} {inner_path} as {pinned.saved_as} ({pinned.sha256})")
    return pinned


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/vendor_web_assets.py",
        description="Fetch pinned files out of npm packages, checked against pinned integrity.",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=CONSOLE_MANIFEST,
        help="the manifest (default: the console's)",
    )
    parser.add_argument(
        "--into", type=Path, help="where the files go (default: the manifest's folder)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sync_command = commands.add_parser("sync", help="fetch what is missing or differs, verified")
    sync_command.add_argument("--quiet", action="store_true", help="print only what it fetches")
    pin_command = commands.add_parser("pin", help="pin a file of PACKAGE@VERSION, and fetch it")
    pin_command.add_argument("spec", metavar="PACKAGE@VERSION")
    pin_command.add_argument("file", help="its path inside the package, e.g. dist/htmx.min.js")
    pin_command.add_argument("--as", dest="saved_as", help="its name here (default: the same)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    manifest: Path = args.manifest
    into: Path = args.into or manifest.parent
    try:
        if args.command == "sync":
            sync(manifest, into, quiet=args.quiet)
        else:
            pin(manifest, into, args.spec, args.file, args.saved_as)
    except VendorError as error:
        print(f"vendor-web-assets: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
