"""`pst up`: the whole system on this machine, stopped as a whole by Ctrl-C.

Starts (unless PST_DATABASE_URL / PST_KAFKA_BOOTSTRAP name servers to use instead) a real
PostgreSQL and a real Kafka broker (or, with `--kafka-brokers N`, a KRaft cluster of N),
migrates, creates the topics, then runs the services as separate processes (with
`--replicas N`, N of each of the web, dispatcher and notifier processes). Every child runs in
its own session and dies with us; Ctrl-C stops the services first, then the broker, then the
database, within ten seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pst.localstack.discovery import RunningStack, running_stack
from pst.localstack.kafka import LocalKafka, LocalKafkaCluster, ensure_kafka_jars
from pst.localstack.ports import free_port, port_is_free
from pst.localstack.postgres import LocalPostgres
from pst.localstack.processes import spawn, stop
from shared.db.migrate import upgrade_to_head
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics
from shared.settings import Settings

log = logging.getLogger(__name__)

DATABASE_NAME = "pst"
RESTARTS_PER_MINUTE = 5


@dataclass
class ServiceProcess:
    name: str
    argv: list[str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class LocalStack:
    def __init__(
        self, settings: Settings, *, kafka_brokers: int = 1, replicas: int | None = None
    ) -> None:
        """`kafka_brokers` > 1 runs a KRaft cluster of that many nodes instead of the one
        broker; `replicas` runs that many web, dispatcher and notifier processes (default: one
        dispatcher, one notifier and `PST_WEB_WORKERS` web processes)."""
        self.settings = settings
        self.state_dir = settings.state_dir.resolve()
        self.logs = self.state_dir / "logs"
        self.postgres: LocalPostgres | None = None
        self.kafka: LocalKafka | LocalKafkaCluster | None = None
        self.kafka_brokers = kafka_brokers
        self.replicas = replicas
        self.broker_restarts: dict[int, list[float]] = {}
        self.services: list[ServiceProcess] = []
        self.web_url = f"http://127.0.0.1:{settings.http_port}"
        self._stopping = False

    # -- start ------------------------------------------------------------------------------
    def start(self) -> None:
        other = running_stack(self.state_dir)
        if other is not None and other.pid != os.getpid():
            raise RuntimeError(
                f"a local stack (pid {other.pid}) already runs from {self.state_dir}"
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        database_url = self.settings.database_url or self._start_postgres()
        _say(f"migrating the database to the newest schema ({_redact(database_url)})")
        upgrade_to_head(database_url)
        bootstrap = self.settings.kafka_bootstrap or self._start_kafka()
        _say(f"creating Kafka topics on {bootstrap}")
        replication = asyncio.run(
            ensure_topics(bootstrap, Topics(self.settings.kafka_topic_prefix).specs())
        )
        _say(
            f"new topics: replication factor {replication.factor}, min.insync.replicas "
            f"{replication.min_insync_replicas} ({replication.brokers} brokers)"
        )
        env = dict(os.environ, PST_DATABASE_URL=database_url, PST_KAFKA_BOOTSTRAP=bootstrap)
        self._start_services(env)
        RunningStack(
            pid=os.getpid(),
            database_url=database_url,
            kafka_bootstrap=bootstrap,
            http_url=self.web_url,
        ).write(self.state_dir)

    def _start_postgres(self) -> str:
        port = free_port(15432)
        _say(f"starting PostgreSQL on 127.0.0.1:{port} (data in {self.state_dir / 'postgres'})")
        self.postgres = LocalPostgres(
            self.state_dir / "postgres", port, log_file=self.logs / "postgres.log"
        )
        self.postgres.start()
        self.postgres.create_database(DATABASE_NAME)
        return self.postgres.url(DATABASE_NAME)

    def _start_kafka(self) -> str:
        libs = ensure_kafka_jars()
        if self.kafka_brokers > 1:
            return self._start_kafka_cluster(libs)
        port = free_port(19092)
        controller_port = free_port(19093 if port != 19093 else None)
        _say(f"starting Apache Kafka (KRaft) on 127.0.0.1:{port} (data in {self.state_dir}/kafka)")
        self.kafka = LocalKafka(
            self.state_dir / "kafka", port, controller_port, libs, log_file=self.logs / "kafka.log"
        )
        self.kafka.start()
        return self.kafka.bootstrap

    def _start_kafka_cluster(self, libs: Path) -> str:
        root = self.state_dir / f"kafka-{self.kafka_brokers}-brokers"
        cluster = LocalKafkaCluster.create(
            root, libs, size=self.kafka_brokers, logs=self.logs, preferred_port=19092
        )
        self.kafka = cluster
        _say(
            f"starting an Apache Kafka cluster of {self.kafka_brokers} KRaft nodes on "
            f"{cluster.bootstrap} (data in {root})"
        )
        cluster.start()
        return cluster.bootstrap

    def _brokers(self) -> list[LocalKafka]:
        if isinstance(self.kafka, LocalKafkaCluster):
            return self.kafka.nodes
        return [self.kafka] if self.kafka is not None else []

    def _start_services(self, env: dict[str, str]) -> None:
        """`web_workers` (or `replicas`) web processes share the API's port (`pst serve
        --shared-port`), so the web tier uses every core; each also answers on a port of its
        own, where we check that it is ready (and where its own /metrics are). `replicas`
        dispatchers and notifiers each join their service's consumer group (Kafka shares the
        partitions among them) on a port of their own too."""
        web_port = self.settings.http_port
        if not port_is_free(web_port):
            raise RuntimeError(f"port {web_port} is in use (set PST_HTTP_PORT to another)")
        python = [sys.executable, "-m", "pst.cli", "serve"]
        workers = self.replicas or self.settings.web_workers
        own_ports = [free_port(web_port + 2 + n) for n in range(1, workers + 1)]
        self.services = [
            ServiceProcess(
                f"web {n}/{workers}",
                [
                    *python,
                    "intake",
                    "--with-notifier-routes",
                    "--with-console",
                    "--shared-port",
                    str(web_port),
                    "--port",
                    str(port),
                ],
                port,
            )
            for n, port in enumerate(own_ports, start=1)
        ]
        replicas = self.replicas or 1
        extra = web_port + 4 + workers  # the ports after the console's for replicas 2..N
        for name, preferred in (
            ("dispatcher", [web_port + 1, *range(extra, extra + replicas - 1)]),
            ("notifier", [web_port + 2, *range(extra + replicas - 1, extra + 2 * replicas - 2)]),
            ("console", [web_port + 3 + workers]),
        ):
            for n, wanted in enumerate(preferred, start=1):
                port = free_port(wanted)
                label = f"{name} {n}/{len(preferred)}" if len(preferred) > 1 else name
                self.services.append(
                    ServiceProcess(label, [*python, name, "--port", str(port)], port)
                )
        for service in self.services:
            self._spawn(service, env)
        self._env = env
        for service in self.services:
            _wait_ready(service, timeout_s=60)

    def _spawn(self, service: ServiceProcess, env: dict[str, str]) -> None:
        _say(f"starting {service.name} on {service.url}")
        service.process = spawn(service.argv, env=env)

    # -- run --------------------------------------------------------------------------------
    def supervise(self) -> int:
        """Wait for Ctrl-C (or SIGTERM); restart a service (or a node of a Kafka cluster) that
        dies, stop if PostgreSQL or the one broker dies."""
        while not self._stopping:
            time.sleep(0.2)
            process = self.postgres._process if self.postgres else None
            if process is not None and process.poll() is not None:
                _say(f"PostgreSQL stopped unexpectedly (exit {process.returncode}); stopping")
                return 1
            if not self._broker_survived():
                return 1
            for service in self.services:
                if service.process is not None and service.process.poll() is not None:
                    if self._stopping:
                        break
                    now = time.monotonic()
                    service.restarts = [t for t in service.restarts if now - t < 60] + [now]
                    if len(service.restarts) > RESTARTS_PER_MINUTE:
                        _say(f"{service.name} keeps failing; stopping the stack")
                        return 1
                    _say(f"{service.name} exited with {service.process.returncode}; restarting")
                    self._spawn(service, self._env)
        return 0

    def _broker_survived(self) -> bool:
        """False when the one broker died (the stack stops); a node of a cluster that died is
        started again, as a service is (the others carry on meanwhile)."""
        cluster = isinstance(self.kafka, LocalKafkaCluster)
        for node in self._brokers():
            code = node.exit_code()
            if code is None or self._stopping:
                continue
            if not cluster:
                _say(f"Kafka stopped unexpectedly (exit {code}); stopping")
                return False
            now = time.monotonic()
            restarts = [t for t in self.broker_restarts.get(node.node_id, []) if now - t < 60]
            self.broker_restarts[node.node_id] = [*restarts, now]
            if len(restarts) >= RESTARTS_PER_MINUTE:
                _say(f"Kafka node {node.node_id} keeps failing; stopping the stack")
                return False
            _say(f"Kafka node {node.node_id} exited with {code}; restarting it")
            node.launch()
        return True

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    # -- stop -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Services first (they finish their transactions), then the broker, then the database."""
        self._stopping = True
        started = time.monotonic()
        for service in self.services:
            if service.process is not None and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            if service.process is not None:
                stop(service.process, timeout_s=max(0.5, 4 - (time.monotonic() - started)))
        if self.kafka is not None:
            self.kafka.stop(timeout_s=4)
        if self.postgres is not None:
            self.postgres.stop(timeout_s=2)
        RunningStack.remove(self.state_dir)
        _say(f"stopped in {time.monotonic() - started:.1f} s")

    def describe(self, started_at: float) -> str:
        web = self.web_url
        lines = [
            "",
            f"PST activation stack is ready in {time.monotonic() - started_at:.1f} s",
            f"  API (intake + Twilio webhooks)  {web}   docs: {web}/docs",
            f"  readiness                       {web}/readyz",
            f"  console (coordinators)          {web}/console/",
            "    make an account:  bin/pst user add --agency kcmo --role coordinator "
            "--name 'Your Name' --email you@example.org",
        ]
        for service in self.services:
            lines.append(f"  {service.name:<31} {service.url}/readyz   {service.url}/metrics")
        if self.postgres is not None:
            lines.append(f"  PostgreSQL                      {self.postgres.dsn(DATABASE_NAME)}")
        else:
            lines.append(
                f"  PostgreSQL (external)           {_redact(self._env['PST_DATABASE_URL'])}"
            )
        if isinstance(self.kafka, LocalKafkaCluster):
            brokers = f"Kafka ({len(self.kafka.nodes)} KRaft nodes)"
            lines.append(f"  {brokers:<31} {self.kafka.bootstrap}")
        elif self.kafka is not None:
            lines.append(f"  Kafka                           {self.kafka.bootstrap}")
        else:
            lines.append(f"  Kafka (external)                {self._env['PST_KAFKA_BOOTSTRAP']}")
        lines += [
            f"  state and logs                  {self.state_dir}",
            "  Twilio                          "
            + (
                "configured"
                if self.settings.twilio_configured
                else "not configured: pages are kept in the outbox, marked not sent"
            ),
            "Press Ctrl-C to stop everything.",
            "",
        ]
        return "\n".join(lines)


def _wait_ready(service: ServiceProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.process is not None and service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with {service.process.returncode} on start")
        try:
            with urllib.request.urlopen(f"{service.url}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} was not ready within {timeout_s:.0f} s")


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def _say(message: str) -> None:
    print(f"pst up: {message}", flush=True)


def run_stack(settings: Settings, *, kafka_brokers: int = 1, replicas: int | None = None) -> int:
    started_at = time.monotonic()
    stack = LocalStack(settings, kafka_brokers=kafka_brokers, replicas=replicas)
    signal.signal(signal.SIGINT, stack.request_stop)
    signal.signal(signal.SIGTERM, stack.request_stop)
    try:
        stack.start()
        if stack._stopping:
            return 0
        print(stack.describe(started_at), flush=True)
        return stack.supervise()
    except RuntimeError as error:
        print(f"pst up: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
