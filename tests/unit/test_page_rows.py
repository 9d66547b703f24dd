"""The rows a run of page requests becomes (`page_rows.run_page_rows`): what each page changes
for the requests after it, as if they were handled one at a time. No servers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifier.page_rows import (
    AssignmentPaging,
    incident_from_facts,
    queued_channels,
    run_page_rows,
)
from shared.events import PageFacts, PageRequested
from shared.settings import Settings
from tests.harness.scripted_draws import ScriptedDraws

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
FACTS = PageFacts(
    agency="kcmo",
    occurred_at=datetime(2026, 11, 21, 4, 14, tzinfo=UTC),
    time_zone="America/Chicago",
    event="officer_involved_shooting",
)
PHONE = "+18165550111"
NOTHING_YET = AssignmentPaging(
    paged_channels=frozenset(), code=None, answered=False, withdrawn=False, open_codes=frozenset()
)


def request(assignment_id: uuid.UUID, channel: str = "sms", phone: str = PHONE) -> PageRequested:
    return PageRequested(
        occurred_at=NOW,
        assignment_id=assignment_id,
        incident_id=uuid.uuid4(),
        member_id="M-111",
        phone=phone,
        channel="sms" if channel == "sms" else "call",
        facts=FACTS,
        remind_supervisor=False,
        answer_by=NOW + timedelta(minutes=5),
    )


def rows_of(
    requests: list[PageRequested],
    pagings: dict[tuple[uuid.UUID, str], AssignmentPaging],
    draws: list[str],
) -> list[dict[str, Any]]:
    return run_page_rows(
        [(event, incident_from_facts(event.facts)) for event in requests],
        pagings,
        rng=ScriptedDraws(draws),
        now=NOW,
        settings=Settings(),
    )


def test_two_assignments_of_one_phone_get_different_codes_when_the_draw_repeats() -> None:
    first, second, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pagings = {
        (first, PHONE): NOTHING_YET,
        (second, PHONE): NOTHING_YET,
        (other, "+18165550122"): NOTHING_YET,
    }
    requests = [request(first), request(other, phone="+18165550122"), request(second)]
    rows = rows_of(requests, pagings, ["4821", "4821", "4821", "5930"])
    assert [row["code"] for row in rows] == ["4821", "4821", "5930"], "only the phone's own"
    assert "5930" in rows[2]["body"]


def test_a_code_already_open_for_the_phone_is_not_drawn() -> None:
    assignment = uuid.uuid4()
    pagings = {(assignment, PHONE): replace(NOTHING_YET, open_codes=frozenset({"4821"}))}
    rows = rows_of([request(assignment)], pagings, ["4821", "5930"])
    assert [row["code"] for row in rows] == ["5930"]


def test_a_second_channel_shares_the_code_and_a_repeated_one_adds_nothing() -> None:
    assignment = uuid.uuid4()
    requests = [request(assignment), request(assignment), request(assignment, "call")]
    rows = rows_of(requests, {(assignment, PHONE): NOTHING_YET}, ["4821"])
    assert [(row["channel"], row["code"]) for row in rows] == [("sms", "4821"), ("call", "4821")]
    assert queued_channels(rows) == {"sms", "call"}


def test_a_withdrawn_assignment_is_cancelled_at_birth_and_leaves_its_code_free() -> None:
    withdrawn, later = uuid.uuid4(), uuid.uuid4()
    pagings = {
        (withdrawn, PHONE): replace(NOTHING_YET, withdrawn=True),
        (later, PHONE): NOTHING_YET,
    }
    rows = rows_of([request(withdrawn), request(later)], pagings, ["4821", "4821"])
    assert [(row["state"], row["code"]) for row in rows] == [
        ("cancelled", "4821"),
        ("queued", "4821"),
    ]
    assert rows[0]["closed_at"] == NOW
    assert queued_channels(rows[:1]) == set(), "a cancelled page wakes no sender"
