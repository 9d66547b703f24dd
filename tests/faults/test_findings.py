"""The fault test's checks catch what they are there to catch (no servers: made-up rows)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.faults.cad import SentReport, activating_report
from tests.faults.findings import AssignmentRow, PageRow, Snapshot, check
from tests.twilio_standin import RecordedRequest

pytestmark = pytest.mark.faults

PHONES = {"S001": "+18165550201", "S002": "+18165550202", "S003": "+18165550203"}


def _world() -> tuple[list[SentReport], Snapshot, list[RecordedRequest]]:
    """Two incidents, each paged to two specialists; the second's SMS to S002 was uncertain,
    so S002 was called."""
    occurred_at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    reports = [
        activating_report(i, agency="kcmo", occurred_at=occurred_at, involved_member_id="S003")
        for i in (1, 2)
    ]
    incidents = {f"inc-{r.index}": r.external_id for r in reports}
    for report in reports:
        report.incident_ids.add(f"inc-{report.index}")
        report.answers["202"] += 1
        report.attempts = 1
    assignments, pages, requests = [], [], []
    for report in reports:
        for member in ("S001", "S002"):
            assignment_id = f"a-{report.index}-{member}"
            uncertain = report.index == 2 and member == "S002"
            assignments.append(
                AssignmentRow(
                    assignment_id,
                    f"inc-{report.index}",
                    member,
                    PHONES[member],
                    "calling" if uncertain else "paged",
                    None,
                )
            )
            pages.append(
                PageRow(
                    f"p-{assignment_id}-sms",
                    "page",
                    "sms",
                    assignment_id,
                    f"inc-{report.index}",
                    PHONES[member],
                    "uncertain" if uncertain else "sent",
                    None,
                    None,
                )
            )
            requests.append(_sms(report, PHONES[member]))
            if uncertain:
                call_page = PageRow(
                    "00000000-0000-0000-0000-00000000000c",
                    "page",
                    "call",
                    assignment_id,
                    f"inc-{report.index}",
                    PHONES[member],
                    "sent",
                    None,
                    None,
                )
                pages.append(call_page)
                requests.append(_call(call_page))
    snapshot = Snapshot(
        incidents=incidents,
        decisions={incident_id: (True, 2) for incident_id in incidents},
        assignments=assignments,
        pages=pages,
        alerts=[],
        dead_letters=[],
        outcomes=Counter(),
    )
    return reports, snapshot, requests


def _sms(report: SentReport, phone: str) -> RecordedRequest:
    body = f"Peer support page (kcmo): line-of-duty death at {report.address}, Sun 22 Nov."
    return RecordedRequest("Messages", {"To": phone, "Body": body}, status=201)


def _call(page: PageRow) -> RecordedRequest:
    url = f"http://127.0.0.1:8000/v1/twilio/voice?page={page.id}"
    return RecordedRequest("Calls", {"To": page.phone, "Url": url}, status=201)


def test_a_world_that_kept_every_promise_has_no_problems() -> None:
    reports, snapshot, requests = _world()
    assert check(reports, snapshot, requests, specialists=2) == []


def test_an_sms_sent_twice_is_found() -> None:
    reports, snapshot, requests = _world()
    problems = check(reports, snapshot, [*requests, requests[0]], specialists=2)
    assert problems == ["FI-0001: 2 SMS requests to +18165550201"]


def test_a_call_placed_twice_is_found() -> None:
    reports, snapshot, requests = _world()
    call = next(r for r in requests if r.resource == "Calls")
    problems = check(reports, snapshot, [*requests, call], specialists=2)
    assert problems == [
        "call page 00000000-0000-0000-0000-00000000000c: 2 call requests",
    ]


def test_a_report_answered_2xx_but_not_stored_is_found() -> None:
    reports, snapshot, requests = _world()
    reports[0].incident_ids = {"inc-lost"}
    problems = check(reports, snapshot, requests, specialists=2)
    assert "FI-0001: answered 2xx as incident inc-lost, which is not stored" in problems


def test_a_third_specialist_or_a_call_without_an_uncertain_sms_is_found() -> None:
    reports, snapshot, requests = _world()
    extra = AssignmentRow("a-1-S003", "inc-1", "S003", PHONES["S003"], "paged", None)
    sms_sent = next(p for p in snapshot.pages if p.id == "p-a-1-S001-sms")
    call = PageRow(
        "00000000-0000-0000-0000-0000000000c1",
        "page",
        "call",
        "a-1-S001",
        "inc-1",
        PHONES["S001"],
        "sent",
        None,
        None,
    )
    changed = dataclasses.replace(
        snapshot,
        assignments=[*snapshot.assignments, extra],
        pages=[*snapshot.pages, call, dataclasses.replace(sms_sent, id="p-a-1-S003-sms")],
    )
    problems = check(reports, changed, requests, specialists=2)
    assert "FI-0001: 3 assignments (['S001', 'S002', 'S003']), expected 2 distinct specialists" in (
        problems
    )
    assert "FI-0001: S003 paged for their own death" in problems
    assert "FI-0001/S001: called although the SMS was sent" in problems


def test_an_uncertain_sms_never_followed_by_a_call_is_found() -> None:
    reports, snapshot, requests = _world()
    changed = dataclasses.replace(
        snapshot, pages=[p for p in snapshot.pages if p.channel != "call"]
    )
    problems = check(
        reports, changed, [r for r in requests if r.resource != "Calls"], specialists=2
    )
    assert problems == ["FI-0002/S002: the SMS was uncertain (None) but no call came"]
