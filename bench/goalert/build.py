"""The pinned GoAlert, built through the Go module proxy the first time.

`go install github.com/target/goalert/cmd/goalert@v0.34.1` cannot work: the module's go.mod
has a `replace` directive, which `go install pkg@version` refuses, and the proxy here answers
403 to `@v/list`. So the module is fetched with `go mod download` (the proxy serves v0.34.1;
v0.34.0, v0.33.0 and v0.32.0 answer 403 "This module version is not available") and built
with `go build ./cmd/goalert` in a writable copy. No build tag is needed: `web/src/build` holds
a placeholder, and a build without `-ldflags -X version...` is version "dev", which skips the
web UI bundle check (the UI is not used).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULE = "github.com/target/goalert"
VERSION = "v0.34.1"
BINARY = Path.home() / ".cache" / "pst-activation" / f"goalert-{VERSION}" / "bin" / "goalert"


def goalert_binary() -> Path:
    if BINARY.exists():
        return BINARY
    env = dict(os.environ, GOFLAGS="-mod=mod")
    download = subprocess.run(
        ["go", "mod", "download", "-json", f"{MODULE}@{VERSION}"],
        capture_output=True,
        check=False,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    if download.returncode != 0:
        raise RuntimeError(
            f"go mod download {MODULE}@{VERSION}: {download.stdout.decode()}"
            f"{download.stderr.decode()}"
        )
    source = Path(json.loads(download.stdout)["Dir"])
    with tempfile.TemporaryDirectory(prefix="goalert-src-") as work:
        tree = Path(work) / "goalert"
        shutil.copytree(source, tree)
        for path in [tree, *tree.rglob("*")]:  # the module cache is read-only
            path.chmod(path.stat().st_mode | 0o200)
        BINARY.parent.mkdir(parents=True, exist_ok=True)
        begun = time.monotonic()
        subprocess.run(
            ["go", "build", "-o", str(BINARY), "./cmd/goalert"], cwd=tree, env=env, check=True
        )
        print(f"built GoAlert {VERSION} in {time.monotonic() - begun:.0f} s", file=sys.stderr)
    return BINARY
