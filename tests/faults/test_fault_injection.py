"""Issue 7: a few hundred CAD reports while every part of the system is hurt, then the promises.

The three services run as real processes (`python -m pst.cli serve ...`) over their own
PostgreSQL and Kafka. While a CAD system sends 300 activating reports over 40 s, retrying each
until it is answered 2xx, this test kills every service with SIGKILL at least once (restarting
it, as a supervisor would), restarts Kafka and restarts PostgreSQL, at moments drawn from a
seeded RNG; the Twilio stand-in answers about a fifth of the requests 500 and lets a few hang
past the notifier's request timeout. The answer timeouts are ten minutes, so nothing escalates
in the ordinary way: the only calls are the ones that follow an SMS that may not have gone.

Once everything is quiet (bounded by deadlines), it checks:
- every report answered 2xx is stored under the incident id it was answered with;
- every activated incident has exactly N = 2 assignments, to distinct specialists, never the
  member the report names;
- Twilio was asked to reach, per incident, exactly the N assigned phones: at most one SMS per
  (incident, phone), at most one call per assignment and only after an uncertain SMS, and
  every uncertain SMS was followed by its call;
- no page row is duplicated, none is stuck, nothing was dead-lettered, intake never said 500.

`FAULTS_SEED=<n>` replays a run's schedule of faults (the summary line prints the seed).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pst.localstack.ports import free_port
from services.notifier.sender import SenderTuning
from tests.faults.cad import CadSystem, SentReport, activating_report, answer_counts
from tests.faults.findings import Snapshot, check, quiet_state, read_snapshot
from tests.faults.stack import SERVICES, TOPIC_PREFIX, FaultStack, fault_roster
from tests.twilio_standin.server import Chaos, TwilioStandIn

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

AGENCY = "kcmo"
SERVICE_NUMBER = "+18165550100"
ROSTER_SIZE = 6
SPECIALISTS_PER_INCIDENT = 2  # kcmo 830 §III.E.1, a line-of-duty death
INCIDENTS = 300
LOAD_S = 40.0
CHAOS_WINDOW_S = (3.0, 30.0)
"""Faults fall in this part of the load, so their after-effects settle within the deadlines."""
REPORT_DEADLINE_S = LOAD_S + 60.0
"""A report still not answered 2xx this long after the load began is a failure."""
QUIET_DEADLINE_S = 100.0
"""After the last report is answered, the system must be quiet within this."""
QUIET_POLLS = 3
ANSWER_TIMEOUT_S = "600"
TWILIO_ERROR_RATIO = 0.2
TWILIO_HANG_RATIO = 0.02
HANG_S = SenderTuning().request_timeout_s + 1.0
"""Longer than the notifier waits for Twilio: the request is abandoned as uncertain."""


def chaos_plan(rng: random.Random) -> list[tuple[float, str]]:
    """(seconds into the load, what): every service killed once, one of them twice, a Kafka
    restart and a PostgreSQL restart, one in each equal part of the window, in random order."""
    actions = [*(f"kill {name}" for name in SERVICES), "restart kafka", "restart postgres"]
    actions.append(f"kill {rng.choice(SERVICES)}")
    rng.shuffle(actions)
    start, end = CHAOS_WINDOW_S
    part = (end - start) / len(actions)
    return [
        (start + i * part + rng.uniform(0, part * 0.5), action) for i, action in enumerate(actions)
    ]


async def inflict(stack: FaultStack, plan: list[tuple[float, str]], rng: random.Random) -> None:
    began = time.monotonic()
    for at, action in plan:
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        verb, target = action.split(" ", 1)
        if verb == "kill":
            await stack.kill_service(target, down_s=rng.uniform(0.2, 2.0))
        elif target == "kafka":
            await stack.restart_kafka(crash=rng.random() < 0.5, down_s=rng.uniform(1.0, 4.0))
        else:
            await stack.restart_postgres(crash=rng.random() < 0.5, down_s=rng.uniform(1.0, 3.0))


async def wait_until_quiet(stack: FaultStack, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    quiet_polls = 0
    moving = ["not yet looked"]
    while quiet_polls < QUIET_POLLS:
        if time.monotonic() > deadline:
            raise AssertionError(f"still not quiet after {timeout_s:.0f} s: {moving}")
        try:
            moving = await quiet_state(stack.database_dsn, TOPIC_PREFIX)
        except (OSError, TimeoutError) as error:
            moving = [f"database: {error!r}"]
        quiet_polls = quiet_polls + 1 if not moving else 0
        await asyncio.sleep(1.0)
    stack.note("quiet")


def summary(
    seed: int,
    stack: FaultStack,
    reports: list[SentReport],
    twilio: TwilioStandIn,
    snapshot: Snapshot,
    took_s: float,
) -> str:
    """One line: what was done to the system, and what it did."""
    answers = answer_counts(reports)
    retries = sum(report.attempts for report in reports) - len(reports)
    not_2xx = ", ".join(f"{k}x{n}" for k, n in sorted(answers.items()) if not k.startswith("2"))
    kills = " ".join(f"{s.name}x{s.kills}" for s in stack.services.values())
    kafka = " + ".join(stack.kafka_restarts) or "never"
    postgres = " + ".join(f"{kind} shutdown" for kind in stack.postgres_restarts) or "never"
    asked: Counter[str] = Counter(r.resource for r in twilio.requests)
    faults: Counter[tuple[str, str | None]] = Counter(
        (r.resource, r.chaos) for r in twilio.requests
    )
    pages = Counter((p.channel, p.state) for p in snapshot.pages)

    def twilio_line(resource: str, name: str) -> str:
        return (
            f"{asked[resource]} {name} requests ({faults[(resource, 'error')]} answered 500, "
            f"{faults[(resource, 'hang')]} hung)"
        )

    return (
        f"faults seed={seed}: {len(reports)} incidents, "
        f"{sum(r.answered_2xx for r in reports)} answered 2xx after {retries} retries "
        f"({not_2xx or 'none'}); kill -9 {kills}; Kafka restarted after {kafka}; "
        f"PostgreSQL restarted after {postgres}; Twilio: {twilio_line('Messages', 'SMS')}, "
        f"{twilio_line('Calls', 'call')}; pages: SMS {pages[('sms', 'sent')]} sent + "
        f"{pages[('sms', 'uncertain')]} uncertain, calls {pages[('call', 'sent')]} sent + "
        f"{pages[('call', 'uncertain')]} uncertain; {took_s:.0f} s"
    )


@pytest.fixture
async def fault_stack(tmp_path: Path) -> AsyncIterator[FaultStack]:
    """The stack in its own folder under /tmp (see `FaultStack.start_servers`); its logs are
    kept in the test's tmp_path, the rest is removed."""
    root = Path(tempfile.mkdtemp(prefix="pst-faults-"))
    try:
        stack = await FaultStack.start_servers(root)
        try:
            yield stack
        finally:
            stack.stop()
            (root / "logs" / "timeline.txt").write_text("\n".join(stack.events) + "\n")
    finally:
        shutil.copytree(root / "logs", tmp_path / "logs", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


async def test_no_report_lost_and_nobody_paged_twice_under_faults(
    fault_stack: FaultStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    seed = int(os.environ.get("FAULTS_SEED") or secrets.randbelow(1_000_000))
    rng = random.Random(seed)
    stack = fault_stack
    secret = await stack.provision(
        agency=AGENCY, roster=fault_roster(AGENCY, ROSTER_SIZE, "+181655502")
    )
    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    chaos = Chaos(
        error_ratio=TWILIO_ERROR_RATIO, hang_ratio=TWILIO_HANG_RATIO, hang_s=HANG_S, seed=seed
    )
    stop_supervising = asyncio.Event()
    async with TwilioStandIn(
        callback_base=web_url, service_number=SERVICE_NUMBER, chaos=chaos
    ) as twilio:
        stack.start_services(
            {
                "PST_HTTP_PORT": str(web_port),
                "PST_PUBLIC_URL": web_url,
                "PST_TWILIO_ACCOUNT_SID": twilio.account_sid,
                "PST_TWILIO_AUTH_TOKEN": twilio.auth_token,
                "PST_TWILIO_FROM": SERVICE_NUMBER,
                "PST_TWILIO_API_BASE": twilio.url,
                "PST_TWILIO_SENDS_PER_SECOND": "1000",
                "PST_SMS_ACK_TIMEOUT_S": ANSWER_TIMEOUT_S,
                "PST_CALL_ACK_TIMEOUT_S": ANSWER_TIMEOUT_S,
                "PST_LOG_LEVEL": "INFO",
            }
        )
        supervisor = asyncio.create_task(stack.supervise(stop_supervising))
        try:
            await stack.wait_ready(timeout_s=60)
            stack.note("services ready")
            occurred_at = datetime.now(UTC) - timedelta(minutes=5)
            reports = [
                activating_report(
                    i,
                    agency=AGENCY,
                    occurred_at=occurred_at,
                    involved_member_id=f"S{i % ROSTER_SIZE + 1:03d}",
                )
                for i in range(INCIDENTS)
            ]
            cad = CadSystem(web_url, AGENCY, secret, random.Random(seed + 1))
            load_began = time.monotonic()
            await asyncio.gather(
                cad.send_all(reports, over_s=LOAD_S, deadline=load_began + REPORT_DEADLINE_S),
                inflict(stack, chaos_plan(rng), rng),
            )
            stack.note("every report answered (or given up)")
            await wait_until_quiet(stack, QUIET_DEADLINE_S)
            snapshot = await read_snapshot(stack.database_dsn)
            problems = check(
                reports, snapshot, list(twilio.requests), specialists=SPECIALISTS_PER_INCIDENT
            )
            server_errors = {
                status: n
                for status, n in answer_counts(reports).items()
                if status.startswith("5") and status != "503"
            }
            if server_errors:
                problems.append(f"intake answered {server_errors} (a 5xx other than 503 is a bug)")
            for service in stack.services.values():
                if service.unexpected_exits:
                    problems.append(
                        f"{service.name} exited by itself with {service.unexpected_exits}"
                    )
            line = summary(seed, stack, reports, twilio, snapshot, time.monotonic() - began)
            with capsys.disabled():
                print(f"\n{line}", flush=True)
            assert not problems, (
                f"{len(problems)} broken promises (seed {seed}):\n"
                + "\n".join(problems[:40])
                + f"\n{line}"
            )
        except BaseException:
            print(f"logs kept in {tmp_path / 'logs'}\n{stack.log_tails()}")
            raise
        finally:
            stop_supervising.set()
            await supervisor
