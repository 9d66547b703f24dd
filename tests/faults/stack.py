"""The system under fault: its own PostgreSQL and Kafka (temporary folder, free ports; the test
session's shared servers are left alone), or the session's three-broker cluster when given one,
and the three services as real processes, started as `pst up` starts them (one or
`replicas` dispatchers and notifiers), with the means to hurt them.

Every child is spawned from the main thread (`pst.localstack.processes.spawn` ties a child's
life to the thread that started it); only the blocking waits run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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

from pst.localstack.kafka import LocalKafka, LocalKafkaCluster, ensure_kafka_jars
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


def fault_roster(agency: str, size: int, phone_prefix: str) -> list[RosterEntryIn]:
    """`size` active, off-duty, on-call specialists with phones `<phone_prefix>01`, ...: the
    same for every fault test, with numbers of its own."""
    return [
        RosterEntryIn(
            member_id=f"S{number:03d}",
            name=f"Specialist {number}",
            agency=agency,
            phone=f"{phone_prefix}{number:02d}",
            status="active",
            on_duty=False,
            on_call=True,
            training_current=True,
            under_investigation=False,
        )
        for number in range(1, size + 1)
    ]


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
    """The service (`web`, `dispatcher`, `notifier`), and `-n` for one of several replicas."""
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
    kafka: LocalKafka | LocalKafkaCluster
    topic_prefix: str = TOPIC_PREFIX
    owns_kafka: bool = True
    """False for a cluster the test session lends (`kafka_cluster`): left running at `stop`."""
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
    async def start_servers(
        cls,
        root: Path,
        *,
        kafka_cluster: LocalKafkaCluster | None = None,
        topic_prefix: str = TOPIC_PREFIX,
    ) -> FaultStack:
        """PostgreSQL and Kafka on free ports, migrated, topics created; on `kafka_cluster`
        (already running, not stopped by `stop`) instead of a broker of its own when given.

        `root` must stay reachable by PostgreSQL's service user (as root, PostgreSQL runs as
        another user): not under pytest's `/tmp/pytest-of-<user>`, which every concurrent
        pytest session makes 0700 again.
        """
        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        postgres = LocalPostgres(
            root / "postgres", free_port(), POSTGRES_SETTINGS, log_file=logs / "postgres.log"
        )
        kafka: LocalKafka | LocalKafkaCluster
        if kafka_cluster is None:
            kafka = LocalKafka(
                root / "kafka",
                free_port(),
                free_port(),
                await asyncio.to_thread(ensure_kafka_jars),
                heap="384m",
                log_file=logs / "kafka.log",
            )
        else:
            kafka = kafka_cluster
        stack = cls(root, postgres, kafka, topic_prefix, owns_kafka=kafka_cluster is None)
        try:
            if stack.owns_kafka:
                kafka.launch()  # the JVM starts slowest: give it a head start
            postgres.launch()
            await asyncio.to_thread(postgres.wait_ready, 30)
            await postgres.create_database_async(DATABASE)
            await asyncio.to_thread(upgrade_to_head, stack.database_url)
            if stack.owns_kafka:
                await asyncio.to_thread(kafka.wait_ready, 60)
            await ensure_topics(kafka.bootstrap, Topics(topic_prefix).specs())
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
                    session,
                    agency=agency,
                    entries=roster,
                    now=now,
                    topics=Topics(self.topic_prefix),
                )
                await session.commit()
        finally:
            await engine.dispose()
        return secret

    # -- services -----------------------------------------------------------------------------
    def start_services(self, settings: Mapping[str, str], *, replicas: int = 1) -> None:
        """The web process (intake + the notifier's webhooks, on `PST_HTTP_PORT`), the
        dispatcher and the notifier, each `python -m pst.cli serve ...`; with `replicas` > 1,
        that many dispatchers and notifiers (`dispatcher-1`, `dispatcher-2`, ...), each in its
        service's consumer group, on a port of its own."""
        web_port = int(settings["PST_HTTP_PORT"])
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PST_")}
        self.env.update(
            PST_DATABASE_URL=self.database_url,
            PST_KAFKA_BOOTSTRAP=self.kafka.bootstrap,
            PST_KAFKA_TOPIC_PREFIX=self.topic_prefix,
            PST_STATE_DIR=str(self.root / "state"),
        )
        self.env.update(settings)
        serve = [sys.executable, "-m", "pst.cli", "serve"]
        self.services = {
            "web": ServiceProcess(
                "web",
                [*serve, "intake", "--with-notifier-routes", "--port", str(web_port)],
                web_port,
                self.logs / "web.log",
            )
        }
        for kind in ("dispatcher", "notifier"):
            for n in range(1, replicas + 1):
                self.add_service(kind, f"{kind}-{n}" if replicas > 1 else kind, spawn_now=False)
        for service in self.services.values():
            self._spawn(service)

    def add_service(self, kind: str, name: str, *, spawn_now: bool = True) -> ServiceProcess:
        """One more process of the dispatcher or the notifier, on a free port (started now
        unless `spawn_now` is false)."""
        port = free_port()
        service = ServiceProcess(
            name,
            [sys.executable, "-m", "pst.cli", "serve", kind, "--port", str(port)],
            port,
            self.logs / f"{name}.log",
        )
        self.services[name] = service
        if spawn_now:
            self._spawn(service)
        return service

    def _spawn(self, service: ServiceProcess) -> None:
        with service.log_file.open("ab") as log:
            log.write(f"=== faults: started at {self.elapsed():.1f} s ===\n".encode())
            log.flush()
            service.process = spawn(
                service.argv, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )

    async def wait_ready(self, timeout_s: float, *, names: list[str] | None = None) -> None:
        """Every service (or those `names`) answers /readyz with 200 (its database and broker
        reachable)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=3) as client:
            for service in (self.services[name] for name in names or list(self.services)):
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

    def kill_and_hold(self, name: str) -> None:
        """SIGKILL the service and leave it down (the supervisor too) until `start_again`."""
        service = self.services[name]
        service.held_down = True
        if service.process is not None and service.process.poll() is None:
            os.kill(service.process.pid, signal.SIGKILL)
            service.process.wait(10)
        service.kills += 1
        self.note(f"kill -9 {name}")

    def start_again(self, name: str) -> None:
        service = self.services[name]
        self._spawn(service)
        service.held_down = False
        self.note(f"restarted {name}")

    async def stop_service(self, name: str, *, timeout_s: float = 15) -> int:
        """SIGTERM, as a scale-down would (a consumer leaves its group on the way out); waits
        for the exit and returns its code. The service stays down."""
        service = self.services[name]
        service.held_down = True
        assert service.process is not None
        service.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(service.process.wait, timeout_s)
        self.note(f"stopped {name} (exit {code})")
        return code

    def log_offset(self, name: str) -> int:
        """Where the service's log ends now (for `assigned_partitions` since then)."""
        path = self.services[name].log_file
        return path.stat().st_size if path.exists() else 0

    def assigned_partitions(self, name: str, since: int = 0) -> int | None:
        """How many partitions the service's consumer was last given after byte `since` of
        its log (its "partitions assigned" line), or None if it was given none since then."""
        with self.services[name].log_file.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        count = None
        for line in text.splitlines():
            if '"partitions assigned"' not in line:
                continue
            with contextlib.suppress(ValueError, KeyError):
                count = int(json.loads(line)["count"])
        return count

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
        """Kill the services, stop the broker (unless lent) and the database; never raises."""
        for service in self.services.values():
            service.held_down = True
            if service.process is not None:
                kill_group(service.process)
        try:
            if self.owns_kafka:
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
        brokers = self.kafka.nodes if isinstance(self.kafka, LocalKafkaCluster) else []
        lent = [node.log_file for node in brokers if node.log_file and node.log_file.exists()]
        for path in sorted(self.logs.glob("*.log")) + lent:
            text = path.read_text(errors="replace").splitlines()
            if path.stem.split("-")[0] in SERVICES:
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
