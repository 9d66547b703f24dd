"""The console's commands to the dispatcher (stand down, page by hand), and the events the
console's read model is built from (a decision per revision, every assignment move)."""

from __future__ import annotations

import uuid

from shared.events import ManualPageRequested, StandDownRequested
from tests.integration.dispatcher.conftest import Harness, report, roster_entry


def _stand_down(harness: Harness, incident: uuid.UUID, agency: str = "kcmo") -> StandDownRequested:
    return StandDownRequested(
        occurred_at=harness.clock.now(),
        incident_id=incident,
        agency=agency,
        requested_by="Coordinator One",
    )


def _by_hand(
    harness: Harness, incident: uuid.UUID, member_id: str, agency: str = "kcmo"
) -> ManualPageRequested:
    return ManualPageRequested(
        occurred_at=harness.clock.now(),
        incident_id=incident,
        agency=agency,
        member_id=member_id,
        requested_by="Coordinator One",
    )


async def test_stand_down_closes_cancels_and_tells_those_paged_or_accepted(
    harness: Harness,
) -> None:
    await harness.roster(*(roster_entry(m) for m in ("A", "B", "C")))
    incident = await harness.report()
    assert await harness.states(incident) == {"A": "paged", "B": "paged"}
    await harness.outcome(await harness.assignment(incident, "A"), "accepted")
    command = _stand_down(harness, incident)
    await harness.dispatcher.handle(command)
    await harness.dispatcher.handle(command)  # delivered twice: once

    assert await harness.states(incident) == {"A": "cancelled", "B": "cancelled"}
    decision = await harness.decision(incident)
    assert decision is not None and decision.closed_at == harness.clock.now()
    assert decision.closed_by == "Coordinator One"
    notices = await harness.outbox("notice.requested", incident_id=str(incident))
    assert sorted(n["member_id"] for n in notices) == ["A", "B"]
    assert all("Victim" not in str(n) and "summary" not in n["facts"] for n in notices)
    withdrawn = await harness.outbox("page.withdrawn", incident_id=str(incident))
    assert [w["assignment_id"] for w in withdrawn] == [
        str((await harness.assignment(incident, "B")).id)
    ], "the page still out is withdrawn; the accepted one had no page out"
    assert len(await harness.outbox("activation.closed", incident_id=str(incident))) == 1

    # closed: a decline, a timeout or a new revision pages nobody
    await harness.report(report(additional_specialists=0), incident_id=incident, revision=2)
    assert await harness.advance_and_fire(3600) == 0
    assert await harness.states(incident) == {"A": "cancelled", "B": "cancelled"}
    assert await harness.pages(incident) == ["A", "B"]


async def test_a_page_by_hand_needs_a_free_place(harness: Harness) -> None:
    await harness.roster(*(roster_entry(m) for m in ("A", "B", "C")))
    incident = await harness.report()
    assert await harness.states(incident) == {"A": "paged", "B": "paged"}
    await harness.dispatcher.handle(_by_hand(harness, incident, "C"))
    await harness.dispatcher.handle(_by_hand(harness, incident, "A"))
    first, second = await harness.alerts("manual_page_refused")
    assert "all 2 places are taken" in first.message
    assert "already assigned" in second.message
    assert await harness.pages(incident) == ["A", "B"]


async def test_a_page_by_hand_pages_the_named_specialist(harness: Harness) -> None:
    await harness.roster(roster_entry("A"))
    incident = await harness.report()
    assert await harness.states(incident) == {"A": "paged"}  # one short of the two needed
    await harness.roster(roster_entry("LATE"))  # joined the roster after the choice
    command = _by_hand(harness, incident, "LATE")
    await harness.dispatcher.handle(command)
    await harness.dispatcher.handle(command)
    assert await harness.states(incident) == {"A": "paged", "LATE": "paged"}
    assert await harness.pages(incident) == ["A", "LATE"]
    (moved,) = await harness.outbox(
        "assignment.changed", incident_id=str(incident), member_id="LATE"
    )
    assert moved["state"] == "paged" and moved["by"] == "Coordinator One"
    assert moved["next_step_at"] is not None


async def test_a_page_by_hand_of_someone_ineligible_is_refused(harness: Harness) -> None:
    await harness.roster(
        roster_entry("A"),
        roster_entry("B"),
        roster_entry("LAPSED", training_current=False),
    )
    incident = await harness.report()
    await harness.outcome(await harness.assignment(incident, "A"), "declined")
    await harness.dispatcher.handle(_by_hand(harness, incident, "LAPSED"))
    await harness.dispatcher.handle(_by_hand(harness, incident, "VICTIM"))
    await harness.dispatcher.handle(_by_hand(harness, incident, "NOBODY"))
    messages = [a.message for a in await harness.alerts("manual_page_refused")]
    assert any("training lapsed" in m for m in messages)
    assert any("NOBODY is not on the roster" in m for m in messages)
    assert "LAPSED" not in await harness.states(incident)


async def test_every_decision_and_move_is_announced_for_the_read_models(
    harness: Harness,
) -> None:
    await harness.roster(*(roster_entry(m) for m in ("A", "B", "C")))
    incident = await harness.report()
    await harness.outcome(await harness.assignment(incident, "A"), "accepted")
    await harness.outcome(await harness.assignment(incident, "B"), "declined")
    await harness.advance_and_fire(120)  # C's SMS unanswered: a call

    (decided,) = await harness.outbox("activation.decided", incident_id=str(incident))
    assert decided["status"] == "activate" and decided["criteria"] == ["III.E.1"]
    assert decided["specialists"] == 2 and decided["revision"] == 1
    assert "summary" not in decided["facts"], "no free text leaves the dispatcher"
    moves = [
        (m["member_id"], m["state"])
        for m in await harness.outbox("assignment.changed", incident_id=str(incident))
    ]
    assert moves == [
        ("A", "paged"),
        ("B", "paged"),
        ("A", "accepted"),
        ("B", "declined"),
        ("C", "paged"),
        ("C", "calling"),
    ]


async def test_a_decision_that_does_not_activate_is_announced_too(harness: Harness) -> None:
    incident = await harness.report(report(event="other", persons=[]))
    (decided,) = await harness.outbox("activation.decided", incident_id=str(incident))
    assert decided["activate"] is False
