"""A real Apache Kafka in KRaft mode, from the official artifacts on Maven Central, run on the
machine's Java: one node (`LocalKafka`, the default everywhere), or a cluster of N combined
broker+controller nodes that form one controller quorum (`LocalKafkaCluster`).

The jars are resolved once by Maven (`kafka-pom.xml` beside this file) into a cache folder
shared by every checkout; each node's data lives in the state folder given to it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from pst.localstack.ports import free_port, wait_for_port
from pst.localstack.processes import kill_group, spawn, stop
from shared.kafka.topics import replication_for

log = logging.getLogger(__name__)

KAFKA_VERSION = "3.9.1"
POM = Path(__file__).with_name("kafka-pom.xml")

LOG4J_PROPERTIES = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
"""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pst-activation"


def ensure_kafka_jars(cache_dir: Path | None = None) -> Path:
    """The folder holding the broker's jars, downloaded with Maven on first use."""
    libs = (cache_dir or default_cache_dir()) / f"kafka-{KAFKA_VERSION}" / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    for tool in ("mvn", "java"):
        if shutil.which(tool) is None:
            raise RuntimeError(
                f"`{tool}` is needed to fetch and run Apache Kafka; install it first"
            )
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log.info("downloading Apache Kafka %s from Maven Central", KAFKA_VERSION)
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM),
            f"-Dkafka.version={KAFKA_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Maven could not fetch Kafka: {result.stdout[-2000:]}{result.stderr}")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    marker.write_text(KAFKA_VERSION)
    return libs


def _random_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class LocalKafka:
    """One KRaft broker+controller with its data in `data_dir`, on 127.0.0.1:`port`.

    Alone by default; a node of a cluster (`LocalKafkaCluster`) when given its `node_id`, the
    quorum's `voters` (`id@host:port,...`), the cluster's id and size."""

    data_dir: Path
    port: int
    controller_port: int
    libs: Path
    heap: str = "512m"
    log_file: Path | None = None
    node_id: int = 1
    voters: str | None = None
    """`controller.quorum.voters`; None: this node alone."""
    cluster_id: str | None = None
    """Given to the storage format on first start; None: a random one."""
    cluster_size: int = 1
    _process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 60) -> None:
        self.launch()
        self.wait_ready(timeout_s)

    def launch(self) -> None:
        """Start the broker process without waiting for it (call `wait_ready` next).

        Call from the thread that will outlive the broker (see LocalPostgres.launch).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "logs" / "meta.properties").exists():
            self._java(
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={self.cluster_id or _random_cluster_id()}",
                "-c",
                str(config),
                "--ignore-formatted",
            )
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = spawn(
            self._java_argv("kafka.Kafka", str(config)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        if out is not subprocess.DEVNULL:
            out.close()  # type: ignore[union-attr]

    def stop(self, timeout_s: float = 8) -> None:
        if self._process is not None:
            stop(self._process, sig=signal.SIGTERM, timeout_s=timeout_s)
            self._process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: the broker recovers its logs on the next start."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def exit_code(self) -> int | None:
        """The code the broker exited with, if it did by itself; None while it runs (or before
        it was started, or after `stop` or `kill`)."""
        return self._process.poll() if self._process is not None else None

    def _write_config(self) -> Path:
        (self.data_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    "controller.quorum.voters="
                    + (self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}"),
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    "num.partitions=6",
                    "auto.create.topics.enable=false",
                    *self._replication_lines(),
                    "offsets.topic.num.partitions=6",
                    "group.initial.rebalance.delay.ms=0",
                    "controlled.shutdown.enable=true",
                    "log.retention.hours=168",
                    "",
                ]
            )
        )
        return config

    def _replication_lines(self) -> list[str]:
        """The broker's own topics (consumer offsets, transactions) and its defaults replicated
        as `replication_for` replicates ours: RF 1 alone, RF 3 with min.insync.replicas 2 on a
        cluster of three or more."""
        if self.cluster_size == 1:
            return [
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
            ]
        replication = replication_for(self.cluster_size)
        return [
            f"offsets.topic.replication.factor={replication.factor}",
            f"transaction.state.log.replication.factor={replication.factor}",
            f"transaction.state.log.min.isr={replication.min_insync_replicas}",
            f"default.replication.factor={replication.factor}",
            f"min.insync.replicas={replication.min_insync_replicas}",
        ]

    def _java_argv(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self.data_dir / 'log4j.properties'}",
            "-cp",
            f"{self.libs}/*",
            main_class,
            *args,
        ]

    def _java(self, main_class: str, *args: str) -> None:
        result = subprocess.run(
            self._java_argv(main_class, *args), check=False, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"{main_class} failed: {result.stdout}{result.stderr}")

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"Kafka exited with code {self._process.returncode} while starting"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            if wait_for_port(self.port, 0.5):
                return
        raise RuntimeError(f"Kafka did not listen on {self.bootstrap} within {timeout_s:.0f} s")


@dataclass
class LocalKafkaCluster:
    """`size` KRaft nodes on this machine, each broker and controller at once, the controller
    quorum made of all of them; node n's data in `root/node-n`, its log in `logs/kafka-n.log`.
    The cluster id is kept in `root/cluster-id`, so a node whose data is gone is formatted
    into the same cluster."""

    root: Path
    nodes: list[LocalKafka]

    @classmethod
    def create(
        cls,
        root: Path,
        libs: Path,
        *,
        size: int = 3,
        heap: str = "512m",
        logs: Path | None = None,
        preferred_port: int | None = None,
    ) -> LocalKafkaCluster:
        """Ports are chosen now and kept for the cluster's life (a restarted node comes back
        on its own): node n (from 1) prefers `preferred_port + 2(n-1)` for its broker and
        the next port for its controller, else ports the kernel hands out."""
        if size < 2:
            raise ValueError("a cluster has at least two nodes; use LocalKafka for one")
        root.mkdir(parents=True, exist_ok=True)
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
        id_file = root / "cluster-id"
        if not id_file.exists():
            id_file.write_text(_random_cluster_id())
        cluster_id = id_file.read_text().strip()
        ports = [
            (
                free_port(preferred_port + 2 * n if preferred_port else None),
                free_port(preferred_port + 2 * n + 1 if preferred_port else None),
            )
            for n in range(size)
        ]
        voters = ",".join(
            f"{n}@127.0.0.1:{controller}" for n, (_, controller) in enumerate(ports, start=1)
        )
        nodes = [
            LocalKafka(
                root / f"node-{n}",
                port,
                controller,
                libs,
                heap=heap,
                log_file=(logs / f"kafka-{n}.log") if logs else None,
                node_id=n,
                voters=voters,
                cluster_id=cluster_id,
                cluster_size=size,
            )
            for n, (port, controller) in enumerate(ports, start=1)
        ]
        return cls(root, nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> LocalKafka:
        return next(node for node in self.nodes if node.node_id == node_id)

    def start(self, timeout_s: float = 90) -> None:
        self.launch()
        self.wait_ready(timeout_s)

    def launch(self) -> None:
        """Start every node without waiting (see `LocalKafka.launch`)."""
        for node in self.nodes:
            node.launch()

    def wait_ready(self, timeout_s: float = 90) -> None:
        """Every node listens, and the cluster's metadata lists all of them as brokers (each
        registered with the quorum and unfenced): topics can be created at full replication."""
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            node.wait_ready(max(1.0, deadline - time.monotonic()))
        self.wait_for_brokers(len(self.nodes), timeout_s=max(1.0, deadline - time.monotonic()))

    def wait_for_brokers(self, count: int, *, timeout_s: float) -> None:
        """Until the cluster's metadata lists `count` live brokers (call from a thread without
        a running event loop: it runs its own)."""
        listed = asyncio.run(live_brokers(self.bootstrap, want=count, timeout_s=timeout_s))
        if len(listed) < count:
            raise RuntimeError(
                f"the Kafka cluster lists brokers {sorted(listed)} of {count} after "
                f"{timeout_s:.0f} s; see {self.root}"
            )

    def stop(self, timeout_s: float = 5) -> None:
        """SIGTERM to every node at once, then SIGKILL whatever outstays `timeout_s`.

        Each node's broker shuts down in about 1.5 s; the last controllers then wait 5 s for a
        quorum that has gone to hand over to ("Graceful shutdown of RaftClient failed"), which
        the SIGKILL cuts short: their metadata log is already written, and the next start
        recovers it as after any crash."""
        running = [node._process for node in self.nodes if node._process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_group(process)
        for node in self.nodes:
            node._process = None

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()


async def live_brokers(bootstrap: str, *, want: int, timeout_s: float) -> set[int]:
    """The node ids of the brokers the cluster's metadata lists, polled until there are `want`
    of them or `timeout_s` passed."""
    deadline = time.monotonic() + timeout_s
    listed: set[int] = set()
    while True:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
        try:
            await client.bootstrap()
            listed = {broker.nodeId for broker in client.cluster.brokers()}
        except KafkaError as error:
            log.debug("cluster metadata not available yet", extra={"error": repr(error)})
        finally:
            await client.close()
        if len(listed) >= want or time.monotonic() > deadline:
            return listed
        await asyncio.sleep(0.5)
