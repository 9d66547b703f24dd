"""An accepted call-out that ends asks its specialist, once, to log its contacts (issue 13): at
the stand-down, or a day after the acceptance, whichever comes first."""

from __future__ import annotations

from datetime import datetime

from shared.events import StandDownRequested
from tests.integration.dispatcher.conftest import Harness, roster_entry

DAY_S = 24 * 3600


async def test_a_stand_down_asks_those_who_accepted_and_only_them(harness: Harness) -> None:
    await harness.roster(*(roster_entry(m) for m in ("A", "B", "C")))
    incident = await harness.report()
    accepted = await harness.assignment(incident, "A")
    await harness.outcome(accepted, "accepted")
    accepted_at = harness.clock.now()
    await harness.advance_and_fire(60)
    command = StandDownRequested(
        occurred_at=harness.clock.now(),
        incident_id=incident,
        agency="kcmo",
        requested_by="Coordinator One",
    )
    await harness.dispatcher.handle(command)
    await harness.dispatcher.handle(command)

    (invited,) = await harness.outbox("contact_log.invited", incident_id=str(incident))
    assert invited["member_id"] == "A" and invited["assignment_id"] == str(accepted.id)
    assert datetime.fromisoformat(invited["accepted_at"]) == accepted_at
    assert datetime.fromisoformat(invited["ended_at"]) == harness.clock.now()
    assert "facts" not in invited and "summary" not in str(invited), "nothing of the incident"

    # the day's timer was cancelled with the assignment: a day later nobody is asked again
    await harness.advance_and_fire(DAY_S + 60)
    assert len(await harness.outbox("contact_log.invited", incident_id=str(incident))) == 1


async def test_a_day_after_the_acceptance_the_call_out_counts_as_ended(harness: Harness) -> None:
    await harness.roster(*(roster_entry(m) for m in ("A", "B")))
    incident = await harness.report()
    await harness.outcome(await harness.assignment(incident, "A"), "accepted")
    await harness.outcome(await harness.assignment(incident, "B"), "declined")
    await harness.advance_and_fire(DAY_S - 60)
    assert await harness.outbox("contact_log.invited", incident_id=str(incident)) == []
    await harness.advance_and_fire(120)
    (invited,) = await harness.outbox("contact_log.invited", incident_id=str(incident))
    assert invited["member_id"] == "A" and invited["overtime_eligible"] in (True, False)
    assert await harness.states(incident) == {"A": "accepted", "B": "declined"}

    # a stand-down after the day asks nobody again
    await harness.dispatcher.handle(
        StandDownRequested(
            occurred_at=harness.clock.now(),
            incident_id=incident,
            agency="kcmo",
            requested_by="Coordinator One",
        )
    )
    assert len(await harness.outbox("contact_log.invited", incident_id=str(incident))) == 1
    assert await harness.states(incident) == {"A": "cancelled", "B": "declined"}
