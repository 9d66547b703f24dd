"""The system under fault: its own PostgreSQL and Kafka (temporary folder, free ports; the test
session's shared servers are left alone) and the three services as real processes, started as
`pst up` starts them, with the means to hurt them.

Every child is spawned from the main thread (`pst.localstack.processes.spawn` ties a child's
life to the thread that started it); only the blocking waits run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pst.localstack.kafka import LocalKafka, ensure_kafka_jars
from pst.localstack.ports import free_port
from pst.localstack.postgres import FAST_UNSAFE_SETTINGS, LocalPostgres
from pst.localstack.processes import kill_group, spawn
from services.intake.credentials import rotate_cad_secret
from shared.db.engine import build_engine, build_session_factory
from shared.db.migrate import upgrade_to_head
from shared.db.unit_of_work import unit_of_work
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics
from shared.roster.entry import RosterEntryIn
from tests.harness.roster_ready import load_ready_roster

REPO = Path(__file__).resolve().parents[2]
DATABASE = "pst"
TOPIC_PREFIX = "faults."
SERVICES = ("web", "dispatcher", "notifier")
POSTGRES_SETTINGS = {**FAST_UNSAFE_SETTINGS, "synchronous_commit": "on"}
"""No fsync (only a machine crash would lose data, and we only crash processes), but a commit
is in the WAL before it is acknowledged: after a crash of PostgreSQL itself, every commit a
service was told about is still there, as in production. With `synchronous_commit=off` the last
commits before a crash vanish while what they published to Kafka does not, which would be
blamed on the services."""


@dataclass
class ServiceProcess:
    """One service process, restarted by `FaultStack` as a supervisor would."""

    name: str
    argv: list[str]
    port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    unexpected_exits: list[int] = field(default_factory=list)
    held_down: bool = False
    """Killed on purpose and not yet restarted: the supervisor leaves it alone."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class FaultStack:
    root: Path
    postgres: LocalPostgres
    kafka: LocalKafka
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    kafka_restarts: list[str] = field(default_factory=list)
    """How each restart of the broker began: `stop` or `kill -9`."""
    postgres_restarts: list[str] = field(default_factory=list)
    """How each restart of the database began: `fast` or `immediate` shutdown."""
    events: list[str] = field(default_factory=list)
    """What was done to the system, and when (seconds since `started`), for the report."""
    started: float = field(default_factory=time.monotonic)

    # -- servers ------------------------------------------------------------------------------
    @classmethod
    async def start_servers(cls, root: Path) -> FaultStack:
        """PostgreSQL and Kafka on free ports, migrated, topics created.

        `root` must stay reachable by PostgreSQL's service user (as root, PostgreSQL runs as
        another user): not under pytest's `/tmp/pytest-of-<user>`, which every concurrent
        pytest session makes 0700 again.
        """
        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        postgres = LocalPostgres(
            root / "postgres", free_port(), POSTGRES_SETTINGS, log_file=logs / "postgres.log"
        )
        kafka = LocalKafka(
            root / "kafka",
            free_port(),
            free_port(),
            await asyncio.to_thread(ensure_kafka_jars),
            heap="384m",
            log_file=logs / "kafka.log",
        )
        stack = cls(root, postgres, kafka)
        try:
            kafka.launch()  # the JVM starts slowest: give it a head start
            postgres.launch()
            await asyncio.to_thread(postgres.wait_ready, 30)
            await postgres.create_database_async(DATABASE)
            await asyncio.to_thread(upgrade_to_head, stack.database_url)
            await asyncio.to_thread(kafka.wait_ready, 60)
            await ensure_topics(kafka.bootstrap, Topics(TOPIC_PREFIX).specs())
        except BaseException:
            stack.stop()
            raise
        return stack

    @property
    def database_url(self) -> str:
        return self.postgres.url(DATABASE)

    @property
    def database_dsn(self) -> str:
        return self.postgres.dsn(DATABASE)

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    async def provision(self, *, agency: str, roster: list[RosterEntryIn]) -> str:
        """The agency's CAD secret and roster, through intake's own data functions; the
        roster's phones confirmed and training credited as `load_ready_roster` does."""
        engine = build_engine(self.database_url, pool_size=1)
        try:
            async with unit_of_work(build_session_factory(engine)) as session:
                now = datetime.now(UTC)
                secret = await rotate_cad_secret(session, agency=agency, now=now)
                await load_ready_roster(
                    session, agency=agency, entries=roster, now=now, topics=Topics(TOPIC_PREFIX)
                )
                await session.commit()
        finally:
            await engine.dispose()
        return secret

    # -- services -----------------------------------------------------------------------------
    def start_services(self, settings: Mapping[str, str]) -> None:
        """The web process (intake + the notifier's webhooks, on `PST_HTTP_PORT`), the
        dispatcher and the notifier, each `python -m pst.cli serve ...`."""
        web_port = int(settings["PST_HTTP_PORT"])
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
        self.env.update(
            PST_DATABASE_URL=self.database_url,
            PST_KAFKA_BOOTSTRAP=self.kafka.bootstrap,
            PST_KAFKA_TOPIC_PREFIX=TOPIC_PREFIX,
            PST_STATE_DIR=str(self.root / "state"),
        )
        self.env.update(settings)
        serve = [sys.executable, "-m", "pst.cli", "serve"]
        dispatcher_port, notifier_port = free_port(), free_port()
        self.services = {
            "web": ServiceProcess(
                "web",
                [*serve, "intake", "--with-notifier-routes", "--port", str(web_port)],
                web_port,
                self.logs / "web.log",
            ),
            "dispatcher": ServiceProcess(
                "dispatcher",
                [*serve, "dispatcher", "--port", str(dispatcher_port)],
                dispatcher_port,
                self.logs / "dispatcher.log",
            ),
            "notifier": ServiceProcess(
                "notifier",
                [*serve, "notifier", "--port", str(notifier_port)],
                notifier_port,
                self.logs / "notifier.log",
            ),
        }
        for service in self.services.values():
            self._spawn(service)

    def _spawn(self, service: ServiceProcess) -> None:
        with service.log_file.open("ab") as log:
            log.write(f"=== faults: started at {self.elapsed():.1f} s ===\n".encode())
            log.flush()
            service.process = spawn(
                service.argv, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, timeout_s: float) -> None:
        """Every service answers /readyz with 200 (its database and broker reachable)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=3) as client:
            for service in self.services.values():
                while True:
                    if service.process is not None and service.process.poll() is not None:
                        raise RuntimeError(
                            f"{service.name} exited with {service.process.returncode} on start; "
                            f"see {service.log_file}"
                        )
                    try:
                        if (await client.get(f"{service.url}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{service.name} was not ready in {timeout_s:.0f} s")
                    await asyncio.sleep(0.2)

    async def kill_service(self, name: str, *, down_s: float) -> None:
        """SIGKILL the service (no shutdown of any kind), then start it again after `down_s`."""
        service = self.services[name]
        service.held_down = True
        try:
            if service.process is not None and service.process.poll() is None:
                os.kill(service.process.pid, signal.SIGKILL)
                await asyncio.to_thread(service.process.wait, 10)
            service.kills += 1
            self.note(f"kill -9 {name}")
            await asyncio.sleep(down_s)
            self._spawn(service)
            self.note(f"restarted {name}")
        finally:
            service.held_down = False

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart a service that died on its own (recorded: it is a finding, not a fault)."""
        while not stop.is_set():
            for service in self.services.values():
                process = service.process
                if service.held_down or process is None or process.poll() is None:
                    continue
                service.unexpected_exits.append(process.returncode)
                self.note(f"{service.name} exited by itself with {process.returncode}")
                if len(service.unexpected_exits) <= 5:
                    self._spawn(service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    # -- the broker and the database --------------------------------------------------------
    async def restart_kafka(self, *, crash: bool, down_s: float) -> None:
        """Stop the broker (SIGTERM and a controlled shutdown, or SIGKILL when `crash`), wait,
        start it again on the same ports and data."""
        self.note("kill -9 Kafka" if crash else "stopping Kafka")
        await asyncio.to_thread(self.kafka.kill if crash else self.kafka.stop)
        self.note("Kafka stopped")
        await asyncio.sleep(down_s)
        self.kafka.launch()
        await asyncio.to_thread(self.kafka.wait_ready, 60)
        self.kafka_restarts.append("kill -9" if crash else "stop")
        self.note("Kafka listening again")

    async def restart_postgres(self, *, crash: bool, down_s: float) -> None:
        """Stop PostgreSQL (a fast shutdown: open transactions roll back; or, when `crash`, an
        immediate one: no checkpoint, crash recovery at the next start), wait, start it again on
        the same port and data."""
        if crash and self.postgres.pid is not None:
            self.note("PostgreSQL immediate shutdown (SIGQUIT)")
            os.kill(self.postgres.pid, signal.SIGQUIT)
        else:
            self.note("stopping PostgreSQL")
        await asyncio.to_thread(self.postgres.stop)
        self.note("PostgreSQL stopped")
        await asyncio.sleep(down_s)
        self.postgres.launch()
        await asyncio.to_thread(self.postgres.wait_ready, 30)
        self.postgres_restarts.append("immediate" if crash else "fast")
        self.note("PostgreSQL accepting connections again")

    # -- the end --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Kill the services, stop the broker and the database; never raises."""
        for service in self.services.values():
            service.held_down = True
            if service.process is not None:
                kill_group(service.process)
        try:
            self.kafka.stop(timeout_s=5)
        finally:
            self.postgres.stop(timeout_s=5)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self, what: str) -> None:
        self.events.append(f"{self.elapsed():6.1f} s  {what}")

    def log_tails(self, lines: int = 25) -> str:
        """The timeline, the services' own errors (the broker client's reconnection noise left
        out) and the end of every log, for a failure."""
        parts = ["timeline:", *self.events]
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            if path.stem in SERVICES:
                worrying = [
                    line
                    for line in text
                    if ('"level": "error"' in line or '"exc": ' in line)
                    and '"logger": "aiokafka' not in line
                ]
                parts.append(f"--- {path.name}: {len(worrying)} error lines; the last of them:")
                parts.extend(line[:600] for line in worrying[-10:])
            parts.append(f"--- {path.name}: last {lines} lines")
            parts.extend(line[:400] for line in text[-lines:])
        return "\n".join(parts)
