"""Driving an assignment: decline → next, SMS timeout → call → next, the notifier's other
outcomes, nobody left, and the coordinator's notice at a member's third failure."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from services.dispatcher.models import EscalationTimer, PageOutcomeRecord
from shared.db.unit_of_work import unit_of_work
from tests.integration.dispatcher.conftest import Harness, roster_entry

SMS_S = 120
CALL_S = 180


async def three_on_the_roster(harness: Harness) -> uuid.UUID:
    await harness.roster(roster_entry("M1"), roster_entry("M2"), roster_entry("M3"))
    incident = await harness.report()
    assert await harness.states(incident) == {"M1": "paged", "M2": "paged"}
    return incident


async def test_a_decline_pages_the_next_one(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    await harness.outcome(await harness.assignment(incident, "M1"), "declined")

    assert await harness.states(incident) == {"M1": "declined", "M2": "paged", "M3": "paged"}
    assert await harness.pages(incident) == ["M1", "M2", "M3"]
    m1 = await harness.assignment(incident, "M1")
    assert (m1.responded_at, m1.reason) == (harness.clock.now(), "declined")
    m3 = await harness.assignment(incident, "M3")
    assert m3.slot == m1.slot, "the next one takes the freed place"
    assert await harness.outbox("page.withdrawn") == [], "an answered page needs no withdrawal"


async def test_no_answer_calls_then_pages_the_next_one(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    m1 = await harness.assignment(incident, "M1")
    await harness.outcome(m1, "accepted")

    assert await harness.advance_and_fire(SMS_S - 1) == 0
    assert await harness.advance_and_fire(1) == 1
    assert await harness.states(incident) == {"M1": "accepted", "M2": "calling"}
    assert await harness.pages(incident, "call") == ["M2"]

    assert await harness.advance_and_fire(CALL_S - 1) == 0
    assert await harness.advance_and_fire(1) == 1
    assert await harness.states(incident) == {"M1": "accepted", "M2": "timed_out", "M3": "paged"}
    (withdrawn,) = await harness.outbox("page.withdrawn")
    assert withdrawn["reason"] == "no answer"
    assert withdrawn["assignment_id"] == str((await harness.assignment(incident, "M2")).id)
    assert await harness.pages(incident) == ["M1", "M2", "M3"]

    # a late reply to the withdrawn page changes nothing; the accepted one never escalates
    await harness.outcome(await harness.assignment(incident, "M2"), "accepted", "call")
    assert (await harness.assignment(incident, "M2")).state == "timed_out"
    # a day on: M3's SMS went unanswered (the call starts now), and M1's call-out has ended
    assert await harness.advance_and_fire(24 * 3600) == 2
    (invited,) = await harness.outbox("contact_log.invited")
    assert invited["member_id"] == "M1"
    assert await harness.advance_and_fire(CALL_S) == 1
    assert await harness.states(incident) == {
        "M1": "accepted",
        "M2": "timed_out",
        "M3": "timed_out",
    }
    assert await harness.pages(incident, "call") == ["M2", "M3"]


async def test_nobody_left_alerts_the_coordinators_once_per_shortfall(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    await harness.outcome(await harness.assignment(incident, "M1"), "declined")
    await harness.outcome(await harness.assignment(incident, "M2"), "declined")
    assert await harness.states(incident) == {"M1": "declined", "M2": "declined", "M3": "paged"}
    (alert,) = await harness.alerts("nobody_left")
    assert "1 of the 2 places" in alert.message

    await harness.outcome(await harness.assignment(incident, "M3"), "delivered")
    await harness.outcome(await harness.assignment(incident, "M3"), "accepted")
    assert len(await harness.alerts("nobody_left")) == 1, "no new alert while nothing changed"

    # once every place is lost, the coordinators hear that the shortfall grew
    other = await three_on_the_roster_again(harness)
    for member in ("M1", "M2", "M3"):
        await harness.outcome(await harness.assignment(other, member), "declined")
    messages = [a.message for a in await harness.alerts("nobody_left") if a.incident_id == other]
    assert ["1 of the 2 places" in messages[0], "2 of the 2 places" in messages[1]] == [True, True]


async def three_on_the_roster_again(harness: Harness) -> uuid.UUID:
    return await harness.report()


async def test_an_undelivered_sms_calls_at_once(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    await harness.outcome(await harness.assignment(incident, "M1"), "delivery_failed")

    assert (await harness.assignment(incident, "M1")).state == "calling"
    assert await harness.pages(incident, "call") == ["M1"]
    # the SMS timeout no longer fires; the call timeout runs from now
    assert await harness.advance_and_fire(CALL_S) == 2  # M1's call timeout, M2's SMS timeout
    assert await harness.states(incident) == {"M1": "timed_out", "M2": "calling", "M3": "paged"}
    assert await harness.pages(incident, "call") == ["M1", "M2"]


async def test_an_opt_out_calls_at_once_and_tells_the_coordinators(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    m1 = await harness.assignment(incident, "M1")
    await harness.outcome(m1, "opted_out")
    await harness.outcome(m1, "opted_out")  # a second report of it

    assert (await harness.assignment(incident, "M1")).state == "calling"
    assert await harness.pages(incident, "call") == ["M1"]
    (alert,) = await harness.alerts("opted_out")
    assert "M1" in alert.message


async def test_an_uncertain_sms_is_not_resent_and_the_call_comes_sooner(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    await harness.outcome(await harness.assignment(incident, "M1"), "send_uncertain")

    assert await harness.pages(incident) == ["M1", "M2"], "no second SMS"
    assert await harness.advance_and_fire(29) == 0
    assert await harness.advance_and_fire(1) == 1
    assert await harness.states(incident) == {"M1": "calling", "M2": "paged"}


async def test_a_permanent_send_failure_moves_on_and_tells_the_coordinators(
    harness: Harness,
) -> None:
    incident = await three_on_the_roster(harness)
    m1 = await harness.assignment(incident, "M1")
    await harness.dispatcher.handle(
        harness.outcome_event(m1, "send_failed").model_copy(update={"detail": "21211 invalid"})
    )

    m1 = await harness.assignment(incident, "M1")
    assert (m1.state, m1.reason) == ("timed_out", "unreachable")
    assert await harness.states(incident) == {"M1": "timed_out", "M2": "paged", "M3": "paged"}
    (alert,) = await harness.alerts("unreachable")
    assert "21211 invalid" in alert.message
    (withdrawn,) = await harness.outbox("page.withdrawn")
    assert withdrawn["reason"] == "unreachable"
    async with unit_of_work(harness.sessions) as session:
        cancelled = (
            await session.scalars(
                select(EscalationTimer.cancelled_at).where(EscalationTimer.assignment_id == m1.id)
            )
        ).all()
    assert cancelled == [harness.clock.now()]


async def test_sent_delivered_and_unanswered_calls_are_recorded_only(harness: Harness) -> None:
    incident = await three_on_the_roster(harness)
    m1 = await harness.assignment(incident, "M1")
    await harness.outcome(m1, "sent")
    await harness.outcome(m1, "delivered")
    await harness.advance_and_fire(SMS_S)
    await harness.outcome(m1, "call_unanswered", "call")
    await harness.outcome(m1, "delivery_failed")  # a late SMS status: already calling

    assert await harness.states(incident) == {"M1": "calling", "M2": "calling"}
    async with unit_of_work(harness.sessions) as session:
        recorded = (
            await session.execute(
                select(PageOutcomeRecord.outcome, PageOutcomeRecord.acted_on)
                .where(PageOutcomeRecord.assignment_id == m1.id)
                .order_by(PageOutcomeRecord.id)
            )
        ).all()
    assert [tuple(row) for row in recorded] == [
        ("sent", False),
        ("delivered", False),
        ("call_unanswered", False),
        ("delivery_failed", False),
    ]


async def test_the_third_failure_in_twelve_months_tells_the_coordinators_once(
    harness: Harness,
) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))

    async def fail_once(how: str) -> None:
        incident = await harness.report()
        m1 = await harness.assignment(incident, "M1")
        if how == "declined":
            await harness.outcome(m1, "declined")
        else:
            await harness.outcome(await harness.assignment(incident, "M2"), "accepted")
            await harness.advance_and_fire(SMS_S)
            await harness.advance_and_fire(CALL_S)
            assert (await harness.assignment(incident, "M1")).state == "timed_out"
        harness.clock.advance(timedelta(days=30))

    await fail_once("declined")
    await fail_once("timed_out")
    assert await harness.alerts("repeated_failures") == []
    await fail_once("declined")
    (alert,) = await harness.alerts("repeated_failures")
    assert "M1" in alert.message and "3 pages" in alert.message
    (sent,) = await harness.outbox("coordinator.alert", reason="repeated_failures")
    assert (sent["member_id"], sent["failures"]) == ("M1", 3)  # the console opens a review
    await fail_once("declined")
    assert len(await harness.alerts("repeated_failures")) == 1


async def test_an_unreachable_number_is_not_the_members_failure(harness: Harness) -> None:
    await harness.roster(roster_entry("M1"), roster_entry("M2"))
    for _ in range(3):
        incident = await harness.report()
        await harness.outcome(await harness.assignment(incident, "M1"), "send_failed")
    assert await harness.alerts("repeated_failures") == []
    assert len(await harness.alerts("unreachable")) == 3
