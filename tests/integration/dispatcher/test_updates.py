"""Changed facts (CONTRACT §7): what newly activates is paged, what no longer activates pages no
one new; revisions out of order and redelivered events change nothing."""

from __future__ import annotations

import uuid

from shared.activation_records import activation_view
from shared.db.unit_of_work import unit_of_work
from tests.integration.dispatcher.conftest import Harness, report, roster_entry

ILLNESS = [{"kind": "member", "member_id": "SICK", "outcome": "serious_illness"}]
INJURED = [{"kind": "member", "member_id": "HURT", "outcome": "injury"}]
DIED = [{"kind": "member", "member_id": "HURT", "outcome": "death"}]


async def four_on_the_roster(harness: Harness) -> None:
    await harness.roster(*(roster_entry(f"M{i}") for i in range(1, 5)))


async def test_consent_given_pages_what_is_now_due(harness: Harness) -> None:
    await four_on_the_roster(harness)
    body = report(event="member_illness", persons=ILLNESS)
    incident = await harness.report(body)
    decision = await harness.decision(incident)
    assert decision is not None and decision.status == "awaiting_consent"
    assert await harness.assignments(incident) == []

    await harness.report(dict(body, consent_given=True), incident_id=incident, revision=2)
    decision = await harness.decision(incident)
    assert decision is not None and (decision.status, decision.revision) == ("activate", 2)
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}


async def test_an_injury_now_a_death_pages_what_is_now_due(harness: Harness) -> None:
    await four_on_the_roster(harness)
    body = report(event="member_injury", persons=INJURED)
    incident = await harness.report(body)
    assert await harness.assignments(incident) == []

    await harness.report(dict(body, persons=DIED), incident_id=incident, revision=2)
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}
    decision = await harness.decision(incident)
    assert decision is not None and decision.criteria == ["III.E.1"]


async def test_more_specialists_authorised_pages_more(harness: Harness) -> None:
    await four_on_the_roster(harness)
    incident = await harness.report()
    await harness.report(report(additional_specialists=1), incident_id=incident, revision=2)

    assert await harness.states(incident) == {"M1": "paged", "M2": "paged", "M3": "paged"}
    assert sorted(a.slot for a in await harness.assignments(incident)) == [1, 2, 3]
    assert await harness.pages(incident) == ["M1", "M2", "M3"]


async def test_a_report_that_no_longer_activates_pages_no_one_new(harness: Harness) -> None:
    await four_on_the_roster(harness)
    incident = await harness.report()
    await harness.report(report(persons=[], event="other"), incident_id=incident, revision=2)
    decision = await harness.decision(incident)
    assert decision is not None and (decision.activate, decision.revision) == (False, 2)
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}, "they stay paged"

    await harness.outcome(await harness.assignment(incident, "M1"), "declined")
    assert await harness.states(incident) == {"M1": "declined", "M2": "paged"}
    assert await harness.pages(incident) == ["M1", "M2"]


async def test_an_older_revision_after_a_newer_one_changes_nothing(harness: Harness) -> None:
    await four_on_the_roster(harness)
    body = report(event="member_illness", persons=ILLNESS)
    incident = await harness.report(dict(body, consent_given=True), revision=2)
    await harness.report(body, incident_id=incident, revision=1)  # arrives late

    decision = await harness.decision(incident)
    assert decision is not None and (decision.revision, decision.status) == (2, "activate")
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}


async def test_a_redelivered_event_changes_nothing(harness: Harness) -> None:
    await four_on_the_roster(harness)
    harness_incident = uuid.uuid4()
    event = harness.reported(harness_incident, report())
    await harness.dispatcher.handle(event)
    await harness.dispatcher.handle(event)
    assert await harness.pages(harness_incident) == ["M1", "M2"]

    decline = harness.outcome_event(await harness.assignment(harness_incident, "M1"), "declined")
    await harness.dispatcher.handle(decline)
    await harness.dispatcher.handle(decline)
    assert await harness.states(harness_incident) == {
        "M1": "declined",
        "M2": "paged",
        "M3": "paged",
    }
    assert await harness.pages(harness_incident) == ["M1", "M2", "M3"]


async def test_the_activation_view_intake_shows(harness: Harness) -> None:
    await four_on_the_roster(harness)
    incident = await harness.report()
    await harness.outcome(await harness.assignment(incident, "M1"), "accepted")

    async with unit_of_work(harness.sessions) as session:
        view = await activation_view(session, incident)
        missing = await activation_view(session, uuid.uuid4())
    assert missing is None
    assert view is not None
    assert (view.incident_id, view.agency, view.status, view.revision) == (
        incident,
        "kcmo",
        "activate",
        1,
    )
    assert view.decision["policy"] == "kcmo-830"
    assert set(view.decision) == {
        "policy",
        "activate",
        "status",
        "criteria",
        "specialists",
        "reasons",
    }
    now = harness.clock.now()
    assert view.assignments == [
        {"member_id": "M1", "state": "accepted", "paged_at": now, "responded_at": now},
        {"member_id": "M2", "state": "paged", "paged_at": now, "responded_at": None},
    ]
