"""A real Apache Kafka broker, single node in KRaft mode, from the official artifacts on Maven
Central, run on the machine's Java.

The jars are resolved once by Maven (`kafka-pom.xml` beside this file) into a cache folder
shared by every checkout; the broker's data lives in the state folder given to it.
"""

from __future__ import annotations

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

from pst.localstack.ports import wait_for_port
from pst.localstack.processes import spawn, stop

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
    """One KRaft broker+controller with its data in `data_dir`, on 127.0.0.1:`port`."""

    data_dir: Path
    port: int
    controller_port: int
    libs: Path
    heap: str = "512m"
    log_file: Path | None = None
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
                f"--cluster-id={_random_cluster_id()}",
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

    def _write_config(self) -> Path:
        (self.data_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    "num.partitions=6",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "controlled.shutdown.enable=true",
                    "log.retention.hours=168",
                    "",
                ]
            )
        )
        return config

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
