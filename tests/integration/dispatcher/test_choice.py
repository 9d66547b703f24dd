"""Who is paged first (CONTRACT §6.1-6.3): eligibility, the §6.2 order, the page itself."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from shared.db.unit_of_work import unit_of_work
from shared.roster.models import RosterEntry
from tests.integration.dispatcher.conftest import Harness, report, roster_entry


async def test_the_choice_follows_the_contract_order(harness: Harness) -> None:
    now = harness.clock.now()
    await harness.roster(
        roster_entry("onduty", on_duty=True, on_call=True),
        roster_entry("busy"),
        roster_entry("recent"),
        roster_entry("many"),
        roster_entry("one_old"),
        roster_entry("one_new"),
        roster_entry("plain_b"),
        roster_entry("plain_a"),
        roster_entry("oncall", on_call=True),
    )
    await harness.past_acceptance("busy", at=now - timedelta(hours=2))
    await harness.past_acceptance("recent", at=now - timedelta(hours=3), still_activates=False)
    await harness.past_acceptance("many", at=now - timedelta(days=20))
    await harness.past_acceptance("many", at=now - timedelta(days=30))
    await harness.past_acceptance("one_old", at=now - timedelta(days=60))
    await harness.past_acceptance("one_new", at=now - timedelta(days=10))
    await harness.past_acceptance("plain_a", at=now - timedelta(days=200))  # outside 90 days

    # nine places: everyone is paged at once, and the slots show the order
    incident = await harness.report(report(additional_specialists=7))

    by_slot = sorted(await harness.assignments(incident), key=lambda a: a.slot)
    assert [a.member_id for a in by_slot] == [
        "oncall",  # off duty and on call
        "plain_b",  # no acceptance at all: longest since the last one
        "plain_a",  # none in 90 days, but one 200 days ago
        "one_old",  # one in 90 days, 60 days ago
        "one_new",  # one in 90 days, 10 days ago
        "many",  # two in 90 days
        "recent",  # accepted elsewhere within 24 h (that incident no longer activates)
        "busy",  # holds an acceptance of another open incident
        "onduty",  # kcmo: on duty only after every eligible off-duty one
    ]
    assert all(a.state == "paged" for a in by_slot)
    assert await harness.pages(incident) == [a.member_id for a in by_slot]
    assert [a.remind_supervisor for a in by_slot] == [False] * 8 + [True]


async def test_only_two_are_paged_and_the_page_carries_no_names(harness: Harness) -> None:
    await harness.roster(*(roster_entry(f"M{i}") for i in range(4)))
    incident = await harness.report()

    assert await harness.states(incident) == {"M0": "paged", "M1": "paged"}
    decision = await harness.decision(incident)
    assert decision is not None
    assert decision.decision["criteria"] == ["III.E.1"]
    assert decision.specialists == 2
    assert decision.reasons == decision.decision["reasons"]
    assert decision.reporter_role == "commander"

    (page, _) = await harness.outbox("page.requested", incident_id=str(incident))
    assert page["channel"] == "sms"
    assert page["phone"] == roster_entry("M0")["phone"]
    assert page["facts"] == {
        "agency": "kcmo",
        "occurred_at": "2026-11-20T22:14:00-06:00",
        "time_zone": "America/Chicago",
        "event": "line_of_duty_death",
        "lat": 39.0997,
        "lon": -94.5786,
        "address": "1125 Locust St",
    }
    assert "Victim" not in str(page) and "Name of" not in str(page)
    answer_by = harness.clock.now() + timedelta(seconds=harness.settings.sms_ack_timeout_s)
    assert page["answer_by"] == answer_by.isoformat().replace("+00:00", "Z")
    assert all(a.overtime_eligible for a in await harness.assignments(incident))


async def test_every_exclusion(harness: Harness) -> None:
    await harness.roster(
        roster_entry("inactive", status="inactive"),
        roster_entry("suspended", status="suspended"),
        roster_entry("withdrawn", status="withdrawn"),
        roster_entry("removed", status="removed"),
        roster_entry("lapsed", training_current=False),
        roster_entry("investigated", under_investigation=True),
        roster_entry("VICTIM"),  # the member who died
        roster_entry("officer"),  # in the encounter, unharmed
        roster_entry("bereaved"),  # whose family member died
        roster_entry("ok"),
        roster_entry("other_agency", agency="kck"),
    )
    body = report(
        persons=[
            {"kind": "member", "member_id": "VICTIM", "outcome": "death"},
            {"kind": "member", "member_id": "officer", "outcome": "none"},
            {"kind": "family", "member_id": "bereaved", "outcome": "death"},
        ]
    )
    incident = await harness.report(body)

    assert await harness.states(incident) == {"ok": "paged"}
    (alert,) = await harness.alerts("nobody_left")
    assert alert.incident_id == incident
    assert "1 of the 2 places" in alert.message
    assert len(await harness.outbox("coordinator.alert", reason="nobody_left")) == 1


async def test_nobody_on_the_roster_alerts_the_coordinators_once(harness: Harness) -> None:
    incident = await harness.report()
    await harness.report(incident_id=incident, revision=1)  # a replay under a new event id

    assert await harness.assignments(incident) == []
    (alert,) = await harness.alerts("nobody_left")
    assert "2 of the 2 places" in alert.message


async def test_a_report_that_does_not_activate_pages_no_one(harness: Harness) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))
    incident = await harness.report(report(persons=[], event="other"))

    decision = await harness.decision(incident)
    assert decision is not None
    assert (decision.status, decision.activate, decision.specialists) == (
        "not_covered",
        False,
        0,
    )
    assert await harness.assignments(incident) == []
    assert await harness.alerts() == []


async def test_an_assignment_keeps_its_place_after_its_member_left_the_roster(
    harness: Harness,
) -> None:
    await harness.roster(*(roster_entry(f"M{i}") for i in range(1, 5)))
    incident = await harness.report()
    async with unit_of_work(harness.sessions) as session:
        await session.execute(delete(RosterEntry).where(RosterEntry.member_id == "M2"))
        await session.commit()

    await harness.outcome(await harness.assignment(incident, "M1"), "declined")

    # M2 still holds a place: only M1's is filled again, and no one is missing
    assert await harness.states(incident) == {"M1": "declined", "M2": "paged", "M3": "paged"}
    assert await harness.alerts() == []
