"""kck (FOP #4 §F.1, §F.3): an on-duty specialist waits for the Bureau Director consult, and
no kck assignment is overtime-eligible."""

from __future__ import annotations

from tests.integration.dispatcher.conftest import Harness, report, roster_entry


async def test_an_on_duty_choice_waits_for_the_consult_then_is_paged(harness: Harness) -> None:
    await harness.roster(
        roster_entry("OFF", agency="kck"),
        roster_entry("ON1", agency="kck", on_duty=True),
        roster_entry("ON2", agency="kck", on_duty=True),
    )
    incident = await harness.report(report("kck"))

    assert await harness.states(incident) == {"OFF": "paged", "ON1": "awaiting_approval"}
    assert await harness.pages(incident) == ["OFF"]
    (asked,) = await harness.alerts("approval_needed")
    assert "ON1" in asked.message and asked.incident_id == incident
    assignments = await harness.assignments(incident)
    assert not any(a.overtime_eligible for a in assignments), "FOP #4 §F.3"
    assert not any(a.remind_supervisor for a in assignments)

    # the coordinator records the consult: now the page goes out, with its own SMS timeout
    await harness.approve(incident, "ON1")
    await harness.approve(incident, "ON1")  # recorded twice: paged once
    assert await harness.states(incident) == {"OFF": "paged", "ON1": "paged"}
    assert await harness.pages(incident) == ["OFF", "ON1"]
    assert await harness.advance_and_fire(120) == 2
    assert await harness.pages(incident, "call") == ["OFF", "ON1"]


async def test_a_consult_recorded_before_the_choice_pages_at_once(harness: Harness) -> None:
    await harness.roster(
        roster_entry("OFF", agency="kck"),
        roster_entry("ON1", agency="kck", on_duty=True),
        roster_entry("ON2", agency="kck", on_duty=True),
    )
    incident = await harness.report(report("kck"))
    await harness.approve(incident, "ON2")  # ON2 not chosen yet: nothing happens
    assert await harness.states(incident) == {"OFF": "paged", "ON1": "awaiting_approval"}

    await harness.outcome(await harness.assignment(incident, "OFF"), "declined")
    assert await harness.states(incident) == {
        "OFF": "declined",
        "ON1": "awaiting_approval",
        "ON2": "paged",
    }
    assert await harness.pages(incident) == ["OFF", "ON2"]
    assert len(await harness.alerts("approval_needed")) == 1


async def test_a_consult_for_an_incident_that_no_longer_activates_pages_no_one(
    harness: Harness,
) -> None:
    await harness.roster(roster_entry("ON1", agency="kck", on_duty=True))
    incident = await harness.report(report("kck"))
    await harness.report(report("kck", persons=[], event="other"), incident_id=incident, revision=2)
    await harness.approve(incident, "ON1")

    assert await harness.states(incident) == {"ON1": "awaiting_approval"}
    assert await harness.pages(incident) == []
