"""The console's pure parts: the request form and a report file as incident reports, the
roster's reasons, the wording of states, the live stream's framing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.console.eligibility import why_not
from services.console.request_form import blank_form, report_from_file, report_from_form
from services.console.web.rendering import sse_message
from services.console.wording import assignment_text, outcome_text, status_text
from shared.errors import InvalidInput
from shared.roster.models import RosterEntry

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
AGENCIES = frozenset({"kcmo", "kck"})


def _form(**changes: str) -> dict[str, str]:
    return blank_form(NOW, "America/Chicago") | {"occurred_at": "2026-11-20T22:30"} | changes


def test_the_form_makes_the_report_the_api_takes() -> None:
    report = report_from_form(
        _form(
            members="E1001, E1002",
            outcome="serious_bodily_injury",
            lat="39.1",
            lon="-94.5",
            address="12th & Grand",
            external_id="KC-1",
        ),
        agency="kcmo",
        zone="America/Chicago",
        role="commander",
        now=NOW,
        agencies=AGENCIES,
    )
    assert report.requested_by_commander, "a commander's form is their request (830 §III.E.6)"
    assert report.occurred_at == datetime(2026, 11, 21, 4, 30, tzinfo=UTC)
    assert [p.member_id for p in report.persons] == ["E1001", "E1002"]
    assert all(p.on_duty for p in report.persons)
    assert report.location is not None and report.location.address == "12th & Grand"
    assert report.external_id == "KC-1"


def test_a_coordinator_filling_the_form_is_no_commanders_request() -> None:
    report = report_from_form(
        _form(),
        agency="kcmo",
        zone="America/Chicago",
        role="coordinator",
        now=NOW,
        agencies=AGENCIES,
    )
    assert not report.requested_by_commander


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-21T09:00"}, "occurred_at"),  # in the future
        ({"lat": "39.1"}, "location"),
        ({"address": "12th & Grand"}, "location"),
        ({"lat": "north", "lon": "-94"}, "lat"),
        ({"event": "picnic"}, "event"),
        ({"members": ",".join(f"E{n}" for n in range(21))}, "members"),
    ],
)
def test_a_bad_form_names_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        report_from_form(
            _form(**changes),
            agency="kcmo",
            zone="America/Chicago",
            role="commander",
            now=NOW,
            agencies=AGENCIES,
        )
    assert field in refused.value.detail


def test_an_example_file_or_a_bare_report_is_taken() -> None:
    report = {
        "agency": "kcmo",
        "occurred_at": "2026-11-20T22:14:00-06:00",
        "event": "line_of_duty_death",
        "persons": [{"kind": "member", "member_id": "E1", "outcome": "death"}],
    }
    for content in (json.dumps({"report": report, "expect": {}}), json.dumps(report)):
        taken = report_from_file(content.encode(), agency="kcmo", now=NOW, agencies=AGENCIES)
        assert taken.event.value == "line_of_duty_death"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "not a JSON document"),
        (b"[]", "expected a JSON object"),
        (json.dumps({"agency": "kck"}).encode(), "for 'kcmo' only"),
        (json.dumps({"agency": "kcmo", "event": "x"}).encode(), "occurred_at"),
    ],
)
def test_a_bad_file_says_what_is_wrong(content: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        report_from_file(content, agency="kcmo", now=NOW, agencies=AGENCIES)
    assert words in refused.value.detail


def _entry(**changes: object) -> RosterEntry:
    values: dict[str, object] = {
        "agency": "kcmo",
        "member_id": "S1",
        "name": "A",
        "phone": "+18165550101",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_valid_until": NOW + timedelta(days=40),
        "phone_verified_at": NOW - timedelta(days=3),
        "under_investigation": False,
        "languages": [],
    }
    values.update(changes)
    return RosterEntry(**values)


def test_the_roster_says_why_someone_cannot_be_paged() -> None:
    assert why_not(_entry(), now=NOW) is None
    assert why_not(_entry(status="inactive"), now=NOW) == "not active (inactive)"
    assert why_not(_entry(status="in_training"), now=NOW) == "not active (in training)"
    assert why_not(_entry(training_valid_until=None), now=NOW) == "training not current"
    assert why_not(_entry(training_valid_until=NOW), now=NOW) == "training not current"
    assert why_not(_entry(phone_verified_at=None), now=NOW) == "phone not confirmed"
    assert why_not(_entry(under_investigation=True), now=NOW) == "under investigation"
    assert why_not(_entry(), now=NOW, involved={"S1"}) == "involved in this incident"
    assert why_not(_entry(), now=NOW, assigned={"S1"}) == "already assigned to this incident"
    # a status this code does not know is not `active`: never paged by accident
    assert why_not(_entry(status="on_leave"), now=NOW) == "not active (on leave)"


def test_states_and_outcomes_in_words() -> None:
    assert status_text(None) == "being decided"
    assert status_text("awaiting_consent") == "waiting for the member's consent"
    assert assignment_text("S1", "cancelled", "stood_down", None) == "S1: cancelled (stood down)"
    assert assignment_text("S1", "paged", None, "Pat") == "S1: paged by SMS (asked for by Pat)"
    assert outcome_text(None, "call", "call_unanswered") == "Call: not answered"


def test_an_event_of_several_lines_is_framed_line_by_line() -> None:
    assert sse_message("board", "<p>\n</p>") == "event: board\ndata: <p>\ndata: </p>\n\n"
    assert sse_message("x", "") == "event: x\ndata: \n\n"
