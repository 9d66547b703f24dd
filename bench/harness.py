"""Running the real stack for a benchmark: `pst up` in a temporary state folder on a free port,
provisioned through the same `pst` commands an operator uses, stopped with Ctrl-C after."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pst.localstack.ports import free_port
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.policy import load_registry
from shared.roster.entry import RosterEntryIn
from tests.harness.roster_ready import make_ready

READY_LINE = "PST activation stack is ready"


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    state_dir: Path
    log: Path
    database_url: str
    pid: int
    """The `pst up` supervisor; every server of the stack descends from it."""

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each part of the stack (user + system, all processes of a
        part summed): the difference of two readings says what a phase cost each service."""
        return cpu_by_role(self.pid)

    def import_roster(self, agency: str, entries: list[dict[str, Any]]) -> None:
        """`pst roster import` as an operator runs it; then, as the tests' `make_ready` does
        through the roster's own writes, every imported phone confirmed (as if it had answered
        its code) and a training credited today to each entry not saying `training_current:
        false`, so the bench's specialists are pageable (issue 14)."""
        self.pst("roster", "import", "--agency", agency, "-", stdin=json.dumps(entries).encode())
        with ThreadPoolExecutor(1) as worker:  # its own event loop, called from any code
            worker.submit(
                asyncio.run,
                _make_ready(self.database_url, agency, entries, self.env.get("PST_AGENCY_DATA")),
            ).result()

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


async def _make_ready(
    database_url: str, agency: str, entries: list[dict[str, Any]], agency_data: str | None
) -> None:
    engine = build_engine(database_url, pool_size=1)
    try:
        async with unit_of_work(build_session_factory(engine)) as session:
            await make_ready(
                session,
                agency=agency,
                entries=[RosterEntryIn.model_validate(entry) for entry in entries],
                now=datetime.now(UTC),
                registry=load_registry(agency_data),
            )
            await session.commit()
    finally:
        await engine.dispose()


@contextmanager
def pst_up(
    extra_env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    up_args: Sequence[str] = (),
) -> Iterator[Stack]:
    """`pst up` (with `up_args`, e.g. `--replicas 2`) until the block ends."""
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
            [sys.executable, "-m", "pst.cli", "up", *up_args],
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
        yield Stack(
            f"http://127.0.0.1:{port}",
            env,
            state_dir,
            log,
            stack_file["database_url"],
            process.pid,
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


_ROLES = (
    ("serve intake", "web"),
    ("serve dispatcher", "dispatcher"),
    ("serve notifier", "notifier"),
    ("kafka", "kafka"),
    ("postgres", "postgresql"),
)


def _processes() -> tuple[dict[int, int], dict[int, float]]:
    """Every process's parent and CPU seconds (user + system) so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return parents, used


def cpu_by_role(root: int) -> dict[str, float]:
    """CPU seconds of `root`'s descendants, summed by the part of the stack they are."""
    parents, used = _processes()
    totals: dict[str, float] = {}
    for pid, seconds in used.items():
        ancestor = parents.get(pid, 0)
        while ancestor not in (0, 1, root):
            ancestor = parents.get(ancestor, 0)
        if ancestor != root:
            continue
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        role = next((r for needle, r in _ROLES if needle.encode() in command), "other")
        totals[role] = totals.get(role, 0.0) + seconds
    return totals


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of `root` and all its descendants."""
    parents, used = _processes()
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += used.get(pid, 0.0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: round(after[role] - before.get(role, 0.0), 2) for role in sorted(after)}


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
