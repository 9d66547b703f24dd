"""The test session's real servers: one PostgreSQL and one Kafka broker, started once; and,
only for the tests that ask for it, a three-broker Kafka cluster (`SessionKafkaCluster`).

Each test then gets its own database (a copy of a migrated template, which is cheap) and its
own topic prefix, so tests never see each other's data.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from pst.localstack.kafka import LocalKafka, LocalKafkaCluster, ensure_kafka_jars
from pst.localstack.ports import free_port
from pst.localstack.postgres import FAST_UNSAFE_SETTINGS, LocalPostgres
from shared.db.migrate import upgrade_to_head

TEMPLATE_DATABASE = "pst_template"
CLUSTER_BROKERS = 3


@dataclass
class SessionServers:
    root: Path
    postgres: LocalPostgres
    kafka: LocalKafka

    @classmethod
    def start(cls) -> SessionServers:
        root = Path(tempfile.mkdtemp(prefix="pst-test-"))
        libs = ensure_kafka_jars()
        postgres = LocalPostgres(
            root / "postgres", free_port(), FAST_UNSAFE_SETTINGS, log_file=root / "postgres.log"
        )
        kafka = LocalKafka(
            root / "kafka",
            free_port(),
            free_port(),
            libs,
            heap="384m",
            log_file=root / "kafka.log",
        )
        kafka.launch()  # the JVM starts slowest: give it a head start
        postgres.launch()
        postgres.wait_ready()
        postgres.create_database(TEMPLATE_DATABASE)
        upgrade_to_head(postgres.url(TEMPLATE_DATABASE))
        kafka.wait_ready()
        return cls(root, postgres, kafka)

    def stop(self) -> None:
        self.kafka.stop()
        self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    async def fresh_database(self) -> str:
        """A new database with the newest schema; returns its name."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        await self.postgres.create_database_async(name, template=TEMPLATE_DATABASE)
        return name

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.postgres.dsn(), timeout=10)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@dataclass
class SessionKafkaCluster:
    """Three KRaft nodes (broker and controller each) in a temporary folder, on free ports.

    A test that stops or kills a node must start it again and wait for it
    (`LocalKafka.launch`, `wait_ready`, then `cluster.wait_for_brokers`) before it ends: the
    next test that asks for the cluster expects all of it."""

    root: Path
    cluster: LocalKafkaCluster

    @classmethod
    def start(cls, *, brokers: int = CLUSTER_BROKERS) -> SessionKafkaCluster:
        root = Path(tempfile.mkdtemp(prefix="pst-test-cluster-"))
        cluster = LocalKafkaCluster.create(
            root, ensure_kafka_jars(), size=brokers, heap="320m", logs=root / "logs"
        )
        try:
            cluster.start(timeout_s=120)
        except BaseException:
            cluster.kill()
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cls(root, cluster)

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap

    def stop(self) -> None:
        try:
            self.cluster.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
