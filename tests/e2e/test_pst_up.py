"""`pst up` brings the whole stack up, answers /readyz, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pst.localstack.ports import free_port
from tests.harness.servers import SessionServers

READY_LINE = "PST activation stack is ready"


def _environment(state_dir: Path, http_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
    env.update(PST_STATE_DIR=str(state_dir), PST_HTTP_PORT=str(http_port), **extra)
    return env


@pytest.fixture
def stack_output(tmp_path: Path) -> Path:
    return tmp_path / "pst-up.log"


def _start(env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    with output.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "pst.cli", "up"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for_ready(process: subprocess.Popen[bytes], output: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if READY_LINE in output.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.25)
    raise AssertionError(f"pst up did not become ready:\n{output.read_text(errors='replace')}")


def _family(pid: int) -> list[psutil.Process]:
    children: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    return children


def _ctrl_c_and_wait(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    process.wait(timeout=15)
    return time.monotonic() - started


@pytest.fixture
def reaper() -> Iterator[list[psutil.Process]]:
    """Kills whatever a failed test left running, so one failure does not poison the rest."""
    left: list[psutil.Process] = []
    yield left
    for proc in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def _healthz_answered(worker_port: int) -> float:
    """How many /healthz requests the web process on `worker_port` (its own) answered."""
    with urllib.request.urlopen(f"http://127.0.0.1:{worker_port}/metrics", timeout=5) as answer:
        metrics = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("pst_http_requests_total{") and 'route="/healthz"' in line
    )


def test_pst_up_starts_everything_and_ctrl_c_stops_everything(
    tmp_path: Path, stack_output: Path, reaper: list[psutil.Process]
) -> None:
    port = free_port()
    process = _start(_environment(tmp_path / "state", port, PST_WEB_WORKERS="2"), stack_output)
    try:
        _wait_for_ready(process, stack_output, timeout_s=180)
        children = _family(process.pid)
        reaper.extend(children)
        commands = [" ".join(c.cmdline()) for c in children]
        assert any("kafka.Kafka" in c for c in commands), commands
        assert any(c.split()[0].endswith("/postgres") for c in commands), commands
        for service in ("intake", "dispatcher", "notifier"):
            assert any(f"serve {service}" in c for c in commands), commands
        web = [c for c in commands if "serve intake" in c]
        assert len(web) == 2 and all(f"--shared-port {port}" in c for c in web), web

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            assert answer.status == 200
            assert json.load(answer)["status"] == "ready"
        stack_file = json.loads((tmp_path / "state" / "stack.json").read_text())
        assert stack_file["pid"] == process.pid

        # each new connection to the API's port goes to one of the web processes
        for _ in range(40):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                pass
        log = stack_output.read_text()
        workers = [int(p) for p in re.findall(r"starting web \d/2 on http://[\d.]+:(\d+)", log)]
        assert len(workers) == 2, log
        assert all(_healthz_answered(worker) > 0 for worker in workers)
    finally:
        took = _ctrl_c_and_wait(process)

    assert took < 10, f"Ctrl-C took {took:.1f} s"
    assert process.returncode == 0, stack_output.read_text()
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left behind: {alive}"
    assert not (tmp_path / "state" / "stack.json").exists()


def _ready_ports(log: str, service: str, count: int) -> list[int]:
    """The own ports `pst up` printed for the `count` processes of `service`."""
    pattern = rf"starting {service} \d/{count} on http://[\d.]+:(\d+)"
    return [int(port) for port in re.findall(pattern, log)]


@pytest.mark.faults
def test_pst_up_runs_a_kafka_cluster_and_replicas_and_restarts_a_lost_broker(
    tmp_path: Path, stack_output: Path, reaper: list[psutil.Process]
) -> None:
    """`--kafka-brokers 3 --replicas 2`: three KRaft nodes, topics replicated 3 times, two of
    each of web, dispatcher and notifier, each ready on its own port; a node killed with
    SIGKILL is started again while the stack stays ready."""
    port = free_port()
    env = _environment(tmp_path / "state", port)
    with stack_output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pst.cli", "up", "--kafka-brokers", "3", "--replicas", "2"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_ready(process, stack_output, timeout_s=240)
        children = _family(process.pid)
        reaper.extend(children)
        commands = [" ".join(c.cmdline()) for c in children]
        brokers = [c for c in children if "kafka.Kafka" in " ".join(c.cmdline())]
        assert len(brokers) == 3, commands
        for service in ("intake", "dispatcher", "notifier"):
            assert sum(f"serve {service}" in c for c in commands) == 2, commands
        log = stack_output.read_text()
        assert "new topics: replication factor 3, min.insync.replicas 2 (3 brokers)" in log, log
        own = [p for s in ("web", "dispatcher", "notifier") for p in _ready_ports(log, s, 2)]
        assert len(set(own)) == 6, log
        for own_port in own:
            with urllib.request.urlopen(f"http://127.0.0.1:{own_port}/readyz", timeout=5) as r:
                assert r.status == 200

        brokers[0].kill()
        deadline = time.monotonic() + 60
        while "exited with -9; restarting it" not in stack_output.read_text():
            assert time.monotonic() < deadline, stack_output.read_text()
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            assert answer.status == 200
        reaper.extend(_family(process.pid))
    finally:
        took = _ctrl_c_and_wait(process)

    assert took < 10, f"Ctrl-C took {took:.1f} s"
    assert process.returncode == 0, stack_output.read_text()
    left = _alive(reaper)
    assert left == [], f"left behind: {left}"


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def test_pst_up_uses_the_servers_it_is_given(
    tmp_path: Path, stack_output: Path, servers: SessionServers, reaper: list[psutil.Process]
) -> None:
    database = servers.postgres.url("pst_template")
    port = free_port()
    env = _environment(
        tmp_path / "state",
        port,
        PST_DATABASE_URL=database,
        PST_KAFKA_BOOTSTRAP=servers.kafka.bootstrap,
        PST_KAFKA_TOPIC_PREFIX="upgiven.",
    )
    process = _start(env, stack_output)
    try:
        _wait_for_ready(process, stack_output, timeout_s=90)
        children = _family(process.pid)
        reaper.extend(children)
        commands = [" ".join(c.cmdline()) for c in children]
        assert not any("kafka.Kafka" in c for c in commands), commands
        assert not any(c.split()[0].endswith("/postgres") for c in commands), commands
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        _ctrl_c_and_wait(process)
    assert process.returncode == 0, stack_output.read_text()
    assert not (tmp_path / "state" / "postgres").exists()
    assert not (tmp_path / "state" / "kafka").exists()
