"""What the fault test reads back, and what it holds the system to.

`quiet_state` says what is still moving (the test waits until nothing is); `check` lists every
broken promise, each as one line naming the incident, the rows or the requests involved.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import asyncpg

from tests.faults.cad import SentReport
from tests.twilio_standin import RecordedRequest

SMS_ADDRESS = re.compile(r" at (FI-\d{4}) Grand Blvd")
EXPECTED_ASSIGNMENT_STATES = frozenset({"paged", "calling"})
"""With answer timeouts far longer than the test, no assignment should end or be answered."""
SETTLED_SMS_STATES = frozenset({"sent", "uncertain"})


@dataclass(frozen=True)
class AssignmentRow:
    id: str
    incident_id: str
    member_id: str
    phone: str
    state: str
    reason: str | None


@dataclass(frozen=True)
class PageRow:
    id: str
    kind: str
    channel: str
    assignment_id: str | None
    incident_id: str | None
    phone: str
    state: str
    twilio_sid: str | None
    last_error: str | None


@dataclass(frozen=True)
class Snapshot:
    incidents: dict[str, str]
    """incident id → external_id"""
    decisions: dict[str, tuple[bool, int]]
    """incident id → (activate, specialists)"""
    assignments: list[AssignmentRow]
    pages: list[PageRow]
    alerts: list[str]
    dead_letters: list[str]
    outcomes: Counter[str]
    """`channel outcome` → how many the dispatcher recorded"""


async def _connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn, timeout=5, command_timeout=15)


async def quiet_state(dsn: str, topic_prefix: str) -> list[str]:
    """What is still in flight; empty when the system has nothing left to do before the answer
    timeouts (which the test keeps far away)."""
    connection = await _connect(dsn)
    try:
        moving: list[str] = []
        pending = await connection.fetchval(
            "SELECT count(*) FROM outbox_messages WHERE status = 'pending'"
        )
        if pending:
            moving.append(f"{pending} outbox rows not yet published")
        for consumer, topics in (
            ("dispatcher", [f"{topic_prefix}incidents", f"{topic_prefix}page-outcomes"]),
            ("notifier", [f"{topic_prefix}page-commands"]),
        ):
            unhandled = await connection.fetchval(
                """
                SELECT count(*) FROM outbox_messages o
                WHERE o.topic = ANY($1::text[])
                  AND NOT EXISTS (SELECT 1 FROM processed_events p
                                  WHERE p.consumer = $2 AND p.event_id = o.payload->>'event_id')
                  AND NOT EXISTS (SELECT 1 FROM dead_letters d
                                  WHERE strpos(d.value, o.payload->>'event_id') > 0)
                """,
                topics,
                consumer,
            )
            if unhandled:
                moving.append(f"{unhandled} events not yet handled by the {consumer}")
        undecided = await connection.fetchval(
            """
            SELECT count(*) FROM incidents i
            WHERE NOT EXISTS (SELECT 1 FROM activation_decisions d WHERE d.incident_id = i.id)
            """
        )
        if undecided:
            moving.append(f"{undecided} incidents not yet decided")
        unsent = await connection.fetchval(
            "SELECT count(*) FROM notifier_pages WHERE state IN ('queued', 'sending')"
        )
        if unsent:
            moving.append(f"{unsent} pages queued or sending")
        due_soon = await connection.fetchval(
            """
            SELECT count(*) FROM dispatcher_timers
            WHERE fired_at IS NULL AND cancelled_at IS NULL
              AND due_at < now() + interval '300 seconds'
            """
        )
        if due_soon:
            moving.append(f"{due_soon} escalation timers due soon (calls after uncertain SMS)")
        return moving
    finally:
        await connection.close()


async def read_snapshot(dsn: str) -> Snapshot:
    connection = await _connect(dsn)
    try:
        incidents = {
            str(r["id"]): r["external_id"]
            for r in await connection.fetch("SELECT id, external_id FROM incidents")
        }
        decisions = {
            str(r["incident_id"]): (r["activate"], r["specialists"])
            for r in await connection.fetch(
                "SELECT incident_id, activate, specialists FROM activation_decisions"
            )
        }
        assignments = [
            AssignmentRow(
                str(r["id"]),
                str(r["incident_id"]),
                r["member_id"],
                r["phone"],
                r["state"],
                r["reason"],
            )
            for r in await connection.fetch(
                "SELECT id, incident_id, member_id, phone, state, reason FROM assignments"
            )
        ]
        pages = [
            PageRow(
                str(r["id"]),
                r["kind"],
                r["channel"],
                str(r["assignment_id"]) if r["assignment_id"] else None,
                str(r["incident_id"]) if r["incident_id"] else None,
                r["phone"],
                r["state"],
                r["twilio_sid"],
                r["last_error"],
            )
            for r in await connection.fetch(
                """SELECT id, kind, channel, assignment_id, incident_id, phone, state,
                          twilio_sid, last_error
                   FROM notifier_pages"""
            )
        ]
        alerts = [
            f"{r['reason']}: {r['message']}"
            for r in await connection.fetch("SELECT reason, message FROM coordinator_alerts")
        ]
        dead_letters = [
            f"{r['consumer']} {r['topic']}: {r['error'][:300]}"
            for r in await connection.fetch("SELECT consumer, topic, error FROM dead_letters")
        ]
        outcomes: Counter[str] = Counter(
            {
                f"{r['channel']} {r['outcome']}": r["n"]
                for r in await connection.fetch(
                    """SELECT channel, outcome, count(*) AS n FROM dispatcher_page_outcomes
                       GROUP BY channel, outcome"""
                )
            }
        )
        return Snapshot(incidents, decisions, assignments, pages, alerts, dead_letters, outcomes)
    finally:
        await connection.close()


def _page_id_of_call(request: RecordedRequest) -> str | None:
    query = parse_qs(urlsplit(request.form.get("Url", "")).query)
    values = query.get("page")
    if not values:
        return None
    try:
        return str(uuid.UUID(values[0]))
    except ValueError:
        return None


def check(
    reports: list[SentReport],
    snapshot: Snapshot,
    requests: list[RecordedRequest],
    *,
    specialists: int,
) -> list[str]:
    """Every broken promise, one line each (empty: all kept)."""
    return [
        *_reports_stored(reports, snapshot),
        *_incidents_staffed(reports, snapshot, specialists),
        *_pages_once(snapshot),
        *_twilio_asked_once(snapshot, requests, specialists),
    ]


def _reports_stored(reports: list[SentReport], snapshot: Snapshot) -> list[str]:
    """Every report answered 2xx is stored, under the id it was answered with; nothing else is."""
    problems: list[str] = []
    for report in reports:
        if report.refused is not None:
            problems.append(f"{report.external_id}: refused: {report.refused}")
        elif not report.answered_2xx:
            problems.append(
                f"{report.external_id}: never answered 2xx ({report.attempts} attempts: "
                f"{dict(report.answers)})"
            )
        if len(report.incident_ids) > 1:
            problems.append(
                f"{report.external_id}: answered with several incident ids {report.incident_ids}"
            )
        for incident_id in report.incident_ids:
            stored = snapshot.incidents.get(incident_id)
            if stored != report.external_id:
                problems.append(
                    f"{report.external_id}: answered 2xx as incident {incident_id}, which is "
                    + ("not stored" if stored is None else f"stored as {stored}")
                )
    reported = {report.external_id for report in reports}
    for incident_id, external_id in snapshot.incidents.items():
        if external_id not in reported:
            problems.append(f"incident {incident_id} ({external_id}) was never reported")
    return problems


def _assignments_by_incident(snapshot: Snapshot) -> dict[str, list[AssignmentRow]]:
    found: dict[str, list[AssignmentRow]] = defaultdict(list)
    for assignment in snapshot.assignments:
        found[assignment.incident_id].append(assignment)
    return found


def _incidents_staffed(
    reports: list[SentReport], snapshot: Snapshot, specialists: int
) -> list[str]:
    """Every incident decided to activate, with exactly N distinct specialists, none of them
    the member it names, all still waiting for an answer."""
    problems: list[str] = []
    involved = {report.external_id: report.involved_member_id for report in reports}
    assignments_of = _assignments_by_incident(snapshot)
    for incident_id, external_id in sorted(snapshot.incidents.items(), key=lambda i: i[1]):
        decision = snapshot.decisions.get(incident_id)
        if decision is None:
            problems.append(f"{external_id}: stored but never decided")
            continue
        if decision != (True, specialists):
            problems.append(f"{external_id}: decided {decision}, expected (True, {specialists})")
            continue
        mine = assignments_of.get(incident_id, [])
        members = [a.member_id for a in mine]
        if len(mine) != specialists or len(set(members)) != len(members):
            problems.append(
                f"{external_id}: {len(mine)} assignments ({sorted(members)}), expected "
                f"{specialists} distinct specialists"
            )
        if involved.get(external_id) in members:
            problems.append(f"{external_id}: {involved[external_id]} paged for their own death")
        for assignment in mine:
            if assignment.state not in EXPECTED_ASSIGNMENT_STATES:
                problems.append(
                    f"{external_id}: assignment of {assignment.member_id} is {assignment.state} "
                    f"({assignment.reason})"
                )
    return problems


def _pages_once(snapshot: Snapshot) -> list[str]:
    """One SMS page row per assignment, settled; a call row only after an uncertain SMS, and
    always after one; nothing dead-lettered, no coordinator alerted."""
    problems: list[str] = []
    assignment_ids = {a.id for a in snapshot.assignments}
    pages_of: dict[tuple[str, str], list[PageRow]] = defaultdict(list)
    for page in snapshot.pages:
        if page.kind != "page":
            problems.append(f"unexpected {page.kind} page {page.id} to {page.phone}")
        elif page.assignment_id is None or page.assignment_id not in assignment_ids:
            problems.append(f"page {page.id} for unknown assignment {page.assignment_id}")
        else:
            pages_of[(page.assignment_id, page.channel)].append(page)
    for assignment in snapshot.assignments:
        external_id = snapshot.incidents.get(assignment.incident_id, assignment.incident_id)
        who = f"{external_id}/{assignment.member_id}"
        sms = pages_of.get((assignment.id, "sms"), [])
        calls = pages_of.get((assignment.id, "call"), [])
        if len(sms) != 1:
            problems.append(f"{who}: {len(sms)} SMS page rows, expected 1")
        if len(calls) > 1:
            problems.append(f"{who}: {len(calls)} call page rows, expected at most 1")
        if not sms:
            continue
        sms_state = sms[0].state
        if sms_state not in SETTLED_SMS_STATES:
            problems.append(f"{who}: SMS page {sms_state} ({sms[0].last_error})")
        if calls and sms_state != "uncertain":
            problems.append(f"{who}: called although the SMS was {sms_state}")
        if sms_state == "uncertain" and not calls:
            problems.append(f"{who}: the SMS was uncertain ({sms[0].last_error}) but no call came")
        for call in calls:
            if call.state not in ("sent", "uncertain"):
                problems.append(f"{who}: call page {call.state} ({call.last_error})")
    if snapshot.alerts:
        problems.append(f"{len(snapshot.alerts)} coordinator alerts: {snapshot.alerts[:3]}")
    if snapshot.dead_letters:
        problems.append(f"{len(snapshot.dead_letters)} dead letters: {snapshot.dead_letters[:3]}")
    return problems


def _twilio_asked_once(
    snapshot: Snapshot, requests: list[RecordedRequest], specialists: int
) -> list[str]:
    """What reached Twilio: per incident exactly the N assigned phones, at most one SMS per
    (incident, phone) and at most one call per call page."""
    problems: list[str] = []
    incident_of_external = {ext: iid for iid, ext in snapshot.incidents.items()}
    page_by_id = {page.id: page for page in snapshot.pages}
    sms_requests: Counter[tuple[str, str]] = Counter()
    call_requests: Counter[str] = Counter()
    phones_reached: dict[str, set[str]] = defaultdict(set)
    for request in requests:
        to = request.form.get("To", "")
        if request.resource == "Messages":
            found = SMS_ADDRESS.search(request.form.get("Body", ""))
            sms_incident = incident_of_external.get(found.group(1)) if found else None
            if sms_incident is None:
                problems.append(f"an SMS for no known incident: {request.form.get('Body')!r}")
                continue
            sms_requests[(sms_incident, to)] += 1
            phones_reached[sms_incident].add(to)
        else:
            page_id = _page_id_of_call(request)
            call_page = page_by_id.get(page_id) if page_id else None
            if call_page is None or call_page.channel != "call" or call_page.incident_id is None:
                problems.append(f"a call for no known call page: {request.form.get('Url')!r}")
                continue
            call_requests[call_page.id] += 1
            phones_reached[call_page.incident_id].add(to)
    for (incident_id, phone), count in sorted(sms_requests.items()):
        if count > 1:
            problems.append(f"{snapshot.incidents[incident_id]}: {count} SMS requests to {phone}")
    for page_id, count in sorted(call_requests.items()):
        if count > 1:
            problems.append(f"call page {page_id}: {count} call requests")
    assignments_of = _assignments_by_incident(snapshot)
    for incident_id, external_id in sorted(snapshot.incidents.items(), key=lambda i: i[1]):
        assigned = {a.phone for a in assignments_of.get(incident_id, [])}
        reached = phones_reached.get(incident_id, set())
        if reached != assigned or len(reached) != specialists:
            problems.append(
                f"{external_id}: Twilio was asked to reach {sorted(reached)}, the assignments "
                f"are to {sorted(assigned)} ({specialists} expected)"
            )
    return problems
