"""`pst up`: cold and warm start times, the whole stack's memory at rest, and Ctrl-C.

    .venv/bin/python -m bench.stack_start [--fresh-jar-cache]

Cold: a new state folder (initdb, Kafka storage format, migrations, topics); with
`--fresh-jar-cache` the Kafka jars are also resolved again (from Maven's local repository, or
Maven Central on a new machine). Warm: the same state folder again. For each: seconds until
`pst up` says it is ready and `/readyz` answers 200; the resident memory of `pst up` and every
process it started, after 10 s at rest; the seconds Ctrl-C takes; and how many of its
processes were left running after it (must be 0). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from bench.harness import READY_LINE, machine
from pst.localstack.ports import free_port


def one_run(state_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    env = env | {"PST_STATE_DIR": str(state_dir), "PST_HTTP_PORT": str(port)}
    log = state_dir.parent / f"pst-up-{time.monotonic_ns()}.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pst.cli", "up"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    while READY_LINE not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() - started > 600:
            raise RuntimeError(log.read_text(errors="replace"))
        time.sleep(0.05)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
        assert answer.status == 200
    ready_s = time.monotonic() - started
    time.sleep(10)
    tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    rss = {p.pid: (p.name(), p.memory_info().rss) for p in tree}
    stopping = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    stop_s = time.monotonic() - stopping
    left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    by_name: dict[str, int] = {}
    for name, size in rss.values():
        by_name[name] = by_name.get(name, 0) + size
    return {
        "ready_s": round(ready_s, 1),
        "rss_total_mib": round(sum(size for _, size in rss.values()) / 2**20),
        "rss_by_process_mib": {k: round(v / 2**20) for k, v in sorted(by_name.items())},
        "processes": len(tree),
        "ctrl_c_s": round(stop_s, 1),
        "left_running": len(left),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh-jar-cache", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pst-start-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
    if args.fresh_jar_cache:
        env["XDG_CACHE_HOME"] = str(root / "cache")
    cold = one_run(root / "state", env)
    warm = one_run(root / "state", env)
    print(json.dumps({"bench": "stack_start", "cold": cold, "warm": warm, "machine": machine()}))


if __name__ == "__main__":
    main()
