"""Issue 15: the scale-out on a real three-broker cluster, with the broker that leads the
incidents partitions killed under load.

The session's three-broker KRaft cluster (`kafka_cluster`) carries this test's topics,
replicated 3 times with min.insync.replicas 2 (checked first); its own PostgreSQL and the
services run as real processes (`python -m pst.cli serve ...`): one web process, two
dispatchers and two notifiers. While a CAD system sends 240 activating reports over 75 s,
retrying each until it is answered 2xx, the faults come one after the other, each once the
previous one has visibly taken effect (no fixed sleeps):

1. kill -9 the broker leading the most partitions of the incidents topic; wait until every
   partition has a new leader, then until 30 more SMS went out on the two brokers left;
   start it again and wait until it is back in every partition's in-sync replicas;
2. kill -9 one dispatcher and one notifier together; wait until the survivors own all of
   their group's partitions (the group noticed the dead members), then start them again and
   wait until each is given partitions (a rebalance on join);
3. force one more rebalance: start a third dispatcher, wait until it owns partitions, stop it
   with SIGTERM (it leaves the group) and wait until the two others own everything again.

Afterwards, the promises of the first fault test (`findings.check`): every report answered 2xx
is stored and decided, every activation has exactly its N = 2 specialists (no more), Twilio was
asked at most once per (incident, phone) for an SMS, nothing dead-lettered, no alert.

"Paging stalled" is measured at the Twilio stand-in, for the broker's loss (from the kill to
its return to every ISR): the longest report → first SMS latency of the reports answered 2xx in
that window (against the same before the kill), and the longest gap between two consecutive SMS
requests overlapping the window. Both are printed on the summary line.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from pst.localstack.kafka import LocalKafkaCluster
from pst.localstack.ports import free_port
from shared.kafka.topics import Topics
from tests.faults.cad import CadSystem, SentReport, activating_report, answer_counts
from tests.faults.cluster_view import (
    PartitionState,
    busiest_leader,
    min_insync_replicas,
    partition_states,
    until_states,
)
from tests.faults.findings import SMS_ADDRESS, check, quiet_state, read_snapshot
from tests.faults.stack import FaultStack, fault_roster
from tests.harness.servers import SessionKafkaCluster
from tests.harness.waiting import eventually
from tests.twilio_standin import RecordedRequest
from tests.twilio_standin.server import TwilioStandIn

pytestmark = [pytest.mark.faults, pytest.mark.timeout(330)]

AGENCY = "kcmo"
SERVICE_NUMBER = "+18165550100"
ROSTER_SIZE = 6
SPECIALISTS_PER_INCIDENT = 2  # kcmo 830 §III.E.1, a line-of-duty death
REPLICAS = 2
INCIDENTS = 240
LOAD_S = 75.0
REPORT_DEADLINE_S = LOAD_S + 60.0
QUIET_DEADLINE_S = 100.0
QUIET_POLLS = 3
ANSWER_TIMEOUT_S = "600"
WARM_SMS = 20
"""SMS sent before the first fault: the system pages normally, the baseline is measured."""
SMS_WITHOUT_THE_BROKER = 30
"""SMS that must go out on two brokers before the third comes back."""
STEP_TIMEOUT_S = 90.0
"""Each fault's effect (a new leader, a takeover, a rejoin) must show within this."""


@dataclass
class Timeline:
    """What the faults did, and when (wall clock, to compare with the stand-in's records)."""

    victim: int = 0
    victim_led: str = ""
    killed_at: datetime | None = None
    failover_s: float = 0.0
    back_at: datetime | None = None
    back_s: float = 0.0
    takeover_s: float = 0.0
    rejoin_s: float = 0.0
    rebalance_s: float = 0.0
    extra_exit: int | None = None
    done_at: datetime | None = None


def _sms(twilio: TwilioStandIn) -> list[RecordedRequest]:
    return [r for r in twilio.requests if r.resource == "Messages"]


def _owns_all(stack: FaultStack, names: list[str], offsets: dict[str, int], total: int) -> bool:
    counts = [stack.assigned_partitions(name, offsets[name]) for name in names]
    return sum(c for c in counts if c is not None) == total and None not in counts


async def inflict(
    stack: FaultStack, cluster: LocalKafkaCluster, topics: Topics, twilio: TwilioStandIn
) -> Timeline:
    timeline = Timeline()
    names = [spec.name for spec in topics.specs()]
    partitions = {spec.name: spec.partitions for spec in topics.specs()}
    dispatcher_partitions = partitions[topics.incidents] + partitions[topics.page_outcomes]
    notifier_partitions = partitions[topics.page_commands]
    await eventually(
        lambda: len(_sms(twilio)) >= WARM_SMS, timeout_s=STEP_TIMEOUT_S, what="first pages"
    )

    # 1. the broker that leads the incidents partitions
    incidents = await partition_states(cluster.bootstrap, [topics.incidents])
    timeline.victim, led = busiest_leader(incidents)
    timeline.victim_led = f"{led} of {len(incidents)}"
    node = cluster.node(timeline.victim)
    node.kill()
    timeline.killed_at = datetime.now(UTC)
    stack.note(f"kill -9 Kafka broker {timeline.victim} (leads {timeline.victim_led} incidents)")

    def led_elsewhere(states: list[PartitionState]) -> bool:
        return all(s.leader not in (-1, timeline.victim) for s in states)

    timeline.failover_s = await until_states(
        cluster.bootstrap, names, "new leaders", led_elsewhere, timeout_s=STEP_TIMEOUT_S
    )
    stack.note(f"every partition led elsewhere after {timeline.failover_s:.1f} s")
    before = len(_sms(twilio))
    await eventually(
        lambda: len(_sms(twilio)) >= before + SMS_WITHOUT_THE_BROKER,
        timeout_s=STEP_TIMEOUT_S,
        what=f"{SMS_WITHOUT_THE_BROKER} SMS on two brokers",
    )
    node.launch()
    await asyncio.to_thread(node.wait_ready, STEP_TIMEOUT_S)

    def in_every_isr(states: list[PartitionState]) -> bool:
        return all(timeline.victim in s.isr for s in states)

    await until_states(
        cluster.bootstrap, names, "back in sync", in_every_isr, timeout_s=STEP_TIMEOUT_S
    )
    timeline.back_at = datetime.now(UTC)
    timeline.back_s = (timeline.back_at - timeline.killed_at).total_seconds()
    stack.note(f"Kafka broker {timeline.victim} back in every ISR")

    # 2. one dispatcher and one notifier, and their return
    offsets = {name: stack.log_offset(name) for name in ("dispatcher-2", "notifier-2")}
    stack.kill_and_hold("dispatcher-1")
    stack.kill_and_hold("notifier-1")
    started = time.monotonic()
    await eventually(
        lambda: (
            _owns_all(stack, ["dispatcher-2"], offsets, dispatcher_partitions)
            and _owns_all(stack, ["notifier-2"], offsets, notifier_partitions)
        ),
        timeout_s=STEP_TIMEOUT_S,
        interval_s=0.2,
        what="the surviving dispatcher and notifier owning every partition",
    )
    timeline.takeover_s = time.monotonic() - started
    stack.note(f"survivors own every partition after {timeline.takeover_s:.1f} s")
    offsets = {name: stack.log_offset(name) for name in ("dispatcher-1", "notifier-1")}
    started = time.monotonic()
    stack.start_again("dispatcher-1")
    stack.start_again("notifier-1")
    await stack.wait_ready(STEP_TIMEOUT_S, names=["dispatcher-1", "notifier-1"])
    await eventually(
        lambda: all(stack.assigned_partitions(name, offsets[name]) for name in offsets),
        timeout_s=STEP_TIMEOUT_S,
        interval_s=0.2,
        what="the restarted dispatcher and notifier given partitions",
    )
    timeline.rejoin_s = time.monotonic() - started
    stack.note(f"restarted ones given partitions after {timeline.rejoin_s:.1f} s")

    # 3. one more rebalance: a third dispatcher joins, then leaves
    started = time.monotonic()
    stack.add_service("dispatcher", "dispatcher-3")
    stack.note("started dispatcher-3")
    await stack.wait_ready(STEP_TIMEOUT_S, names=["dispatcher-3"])
    await eventually(
        lambda: stack.assigned_partitions("dispatcher-3"),
        timeout_s=STEP_TIMEOUT_S,
        interval_s=0.2,
        what="dispatcher-3 given partitions",
    )
    stack.note("dispatcher-3 given partitions")
    offsets = {name: stack.log_offset(name) for name in ("dispatcher-1", "dispatcher-2")}
    timeline.extra_exit = await stack.stop_service("dispatcher-3")
    await eventually(
        lambda: _owns_all(stack, list(offsets), offsets, dispatcher_partitions),
        timeout_s=STEP_TIMEOUT_S,
        interval_s=0.2,
        what="the two dispatchers owning every partition again",
    )
    timeline.rebalance_s = time.monotonic() - started
    timeline.done_at = datetime.now(UTC)
    stack.note("two dispatchers own every partition again")
    return timeline


@dataclass(frozen=True)
class Stall:
    """Paging around the broker's loss, from what reached the Twilio stand-in."""

    before_p50_s: float
    before_max_s: float
    during_max_s: float
    during_reports: int
    longest_gap_s: float


def paging_stall(
    reports: list[SentReport], requests: list[RecordedRequest], timeline: Timeline
) -> Stall:
    assert timeline.killed_at is not None and timeline.back_at is not None
    first_sms: dict[str, datetime] = {}
    times = []
    for request in requests:
        if request.resource != "Messages":
            continue
        times.append(request.at)
        found = SMS_ADDRESS.search(request.form.get("Body", ""))
        if found and (found.group(1) not in first_sms or request.at < first_sms[found.group(1)]):
            first_sms[found.group(1)] = request.at
    before, during = [], []
    for report in reports:
        paged = first_sms.get(report.external_id)
        if report.answered_at is None or paged is None:
            continue
        latency = (paged - report.answered_at).total_seconds()
        if report.answered_at < timeline.killed_at:
            before.append(latency)
        elif report.answered_at <= timeline.back_at:
            during.append(latency)
    times.sort()
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in pairwise(times)
        if later > timeline.killed_at and earlier < timeline.back_at
    ]
    return Stall(
        before_p50_s=statistics.median(before) if before else float("nan"),
        before_max_s=max(before, default=float("nan")),
        during_max_s=max(during, default=float("nan")),
        during_reports=len(during),
        longest_gap_s=max(gaps, default=float("nan")),
    )


def summary(
    reports: list[SentReport],
    twilio: TwilioStandIn,
    timeline: Timeline,
    stall: Stall,
    took_s: float,
) -> str:
    answers = answer_counts(reports)
    retries = sum(report.attempts for report in reports) - len(reports)
    not_2xx = ", ".join(f"{k}x{n}" for k, n in sorted(answers.items()) if not k.startswith("2"))
    return (
        f"broker loss: {len(reports)} incidents, {sum(r.answered_2xx for r in reports)} "
        f"answered 2xx after {retries} retries ({not_2xx or 'none'}); "
        f"kill -9 broker {timeline.victim} (led {timeline.victim_led} incidents partitions): "
        f"new leaders after {timeline.failover_s:.1f} s, back in every ISR after "
        f"{timeline.back_s:.1f} s; paging stalled: report → first SMS max "
        f"{stall.during_max_s:.2f} s over the {stall.during_reports} reports answered while "
        f"it was away (before the kill p50 {stall.before_p50_s:.2f} s, max "
        f"{stall.before_max_s:.2f} s), longest gap between SMS {stall.longest_gap_s:.2f} s; "
        f"kill -9 dispatcher-1 + notifier-1: survivors own every partition after "
        f"{timeline.takeover_s:.1f} s, restarted ones given partitions after "
        f"{timeline.rejoin_s:.1f} s; dispatcher-3 joined and left in {timeline.rebalance_s:.1f} s; "
        f"Twilio: {len(twilio.messages)} SMS, {len(twilio.calls)} calls; {took_s:.0f} s"
    )


async def wait_until_quiet(stack: FaultStack, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    quiet_polls = 0
    moving = ["not yet looked"]
    while quiet_polls < QUIET_POLLS:
        if time.monotonic() > deadline:
            raise AssertionError(f"still not quiet after {timeout_s:.0f} s: {moving}")
        try:
            moving = await quiet_state(stack.database_dsn, stack.topic_prefix)
        except (OSError, TimeoutError) as error:
            moving = [f"database: {error!r}"]
        quiet_polls = quiet_polls + 1 if not moving else 0
        await asyncio.sleep(1.0)
    stack.note("quiet")


async def _make_whole(cluster: LocalKafkaCluster) -> None:
    """Every node running and listed again, for the next test that asks for the cluster."""
    for node in cluster.nodes:
        if node.pid is None:
            node.launch()
    await asyncio.to_thread(cluster.wait_ready, 120)


@pytest.fixture
async def cluster_stack(
    kafka_cluster: SessionKafkaCluster, tmp_path: Path
) -> AsyncIterator[FaultStack]:
    """The fault stack on the session's cluster, with topics of its own; its logs (and the
    cluster's) are kept in the test's tmp_path, the rest is removed."""
    root = Path(tempfile.mkdtemp(prefix="pst-broker-loss-"))
    try:
        stack = await FaultStack.start_servers(
            root, kafka_cluster=kafka_cluster.cluster, topic_prefix=f"l{uuid.uuid4().hex[:8]}."
        )
        try:
            yield stack
        finally:
            stack.stop()
            (root / "logs" / "timeline.txt").write_text("\n".join(stack.events) + "\n")
            await _make_whole(kafka_cluster.cluster)
    finally:
        shutil.copytree(root / "logs", tmp_path / "logs", dirs_exist_ok=True)
        shutil.copytree(kafka_cluster.root / "logs", tmp_path / "kafka", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


async def test_paging_survives_the_loss_of_the_broker_leading_the_incidents(
    cluster_stack: FaultStack,
    kafka_cluster: SessionKafkaCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    stack, cluster = cluster_stack, kafka_cluster.cluster
    topics = Topics(stack.topic_prefix)
    for spec in topics.specs():
        states = await partition_states(cluster.bootstrap, [spec.name])
        assert len(states) == spec.partitions, states
        assert all(len(s.replicas) == 3 for s in states), states
        assert await min_insync_replicas(cluster.bootstrap, spec.name) == 2

    secret = await stack.provision(
        agency=AGENCY, roster=fault_roster(AGENCY, ROSTER_SIZE, "+181655503")
    )
    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    stop_supervising = asyncio.Event()
    async with TwilioStandIn(callback_base=web_url, service_number=SERVICE_NUMBER) as twilio:
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
            },
            replicas=REPLICAS,
        )
        supervisor = asyncio.create_task(stack.supervise(stop_supervising))
        try:
            await stack.wait_ready(timeout_s=90)
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
            cad = CadSystem(web_url, AGENCY, secret, random.Random(15))
            load_began = time.monotonic()
            async with asyncio.TaskGroup() as group:
                group.create_task(
                    cad.send_all(reports, over_s=LOAD_S, deadline=load_began + REPORT_DEADLINE_S)
                )
                faults = group.create_task(inflict(stack, cluster, topics, twilio))
            timeline = faults.result()
            stack.note("every report answered (or given up)")
            await wait_until_quiet(stack, QUIET_DEADLINE_S)
            snapshot = await read_snapshot(stack.database_dsn)
            requests = list(twilio.requests)
            problems = check(reports, snapshot, requests, specialists=SPECIALISTS_PER_INCIDENT)
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
            if timeline.extra_exit not in (0, -signal.SIGTERM):
                # uvicorn raises SIGTERM again once its graceful shutdown is done: -15 is clean
                problems.append(f"dispatcher-3 exited with {timeline.extra_exit} on SIGTERM")
            stall = paging_stall(reports, requests, timeline)
            if stall.during_reports == 0:
                problems.append("no report was answered while the broker was away")
            line = summary(reports, twilio, timeline, stall, time.monotonic() - began)
            with capsys.disabled():
                print(f"\n{line}", flush=True)
            assert not problems, (
                f"{len(problems)} broken promises:\n" + "\n".join(problems[:40]) + f"\n{line}"
            )
        except BaseException:
            print(f"logs kept in {tmp_path}\n{stack.log_tails()}")
            raise
        finally:
            stop_supervising.set()
            await supervisor
