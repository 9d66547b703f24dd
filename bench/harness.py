"""Running the real stack for a benchmark: `pst up` in a temporary state folder on a free port,
provisioned through the same `pst` commands an operator uses, stopped with Ctrl-C after."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pst.localstack.ports import free_port

READY_LINE = "PST activation stack is ready"


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    state_dir: Path
    log: Path
    database_url: str

    def pst(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pst.cli", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pst {' '.join(args)}: {done.stderr.decode()}")
        return done.stdout.decode().strip()


@contextmanager
def pst_up(
    extra_env: Mapping[str, str] | None = None, *, port: int | None = None
) -> Iterator[Stack]:
    state_dir = Path(tempfile.mkdtemp(prefix="pst-bench-"))
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
    env.update(
        PST_STATE_DIR=str(state_dir),
        PST_HTTP_PORT=str(port),
        PST_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PST_LOG_LEVEL="WARNING",
        **(extra_env or {}),
    )
    log = state_dir / "pst-up.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pst.cli", "up"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while READY_LINE not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pst up did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        stack_file = json.loads((state_dir / "stack.json").read_text())
        yield Stack(f"http://127.0.0.1:{port}", env, state_dir, log, stack_file["database_url"])
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def roster(agency: str, count: int, phone_prefix: str = "+1816555") -> list[dict[str, Any]]:
    return [
        {
            "member_id": f"B{n:04d}",
            "name": f"Bench Specialist {n}",
            "agency": agency,
            "phone": f"{phone_prefix}{n:04d}",
            "status": "active",
            "on_duty": n % 3 == 0,
            "on_call": n % 2 == 0,
            "training_current": True,
            "under_investigation": False,
        }
        for n in range(count)
    ]
