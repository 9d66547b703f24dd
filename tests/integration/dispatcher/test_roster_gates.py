"""The dispatcher pages only those the roster's life allows (issue 14): an `active` status,
training current at the moment of choice (a lapse needs no job to take effect), a confirmed
phone; an `OFF 8H` window only moves someone after everyone on call (CONTRACT §6.2). A phone
confirmed later makes its specialist the next one paged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from shared.db.unit_of_work import unit_of_work
from shared.roster import phones
from shared.roster.models import RosterEntry
from tests.integration.dispatcher.conftest import Harness, report, roster_entry


async def _set(harness: Harness, member_id: str, **values: object) -> None:
    async with unit_of_work(harness.sessions) as session:
        await session.execute(
            update(RosterEntry).where(RosterEntry.member_id == member_id).values(**values)
        )
        await session.commit()


async def test_only_active_trained_and_confirmed_specialists_are_paged(harness: Harness) -> None:
    now = harness.clock.now()
    await harness.roster(
        roster_entry("ready", on_call=True),
        roster_entry("off8h", on_call=True),
        roster_entry("unconfirmed", on_call=True),
        roster_entry("applicant", on_call=True),
        roster_entry("lapsing", on_call=True),
        roster_entry("untrained", on_call=True, training_current=False),
    )
    await _set(harness, "off8h", off_call_until=now + timedelta(hours=8))
    await _set(harness, "unconfirmed", phone_verified_at=None)
    await _set(harness, "applicant", status="in_training")
    await _set(harness, "lapsing", training_valid_until=now + timedelta(minutes=1))
    harness.clock.advance(120)  # the lapse takes effect by itself

    incident = await harness.report(report())
    by_slot = sorted(await harness.assignments(incident), key=lambda a: a.slot)
    # off8h is still paged (nobody else is left), but after the one on call although its id
    # sorts first
    assert [a.member_id for a in by_slot] == ["ready", "off8h"]

    ready = await harness.assignment(incident, "ready")
    async with unit_of_work(harness.sessions) as session:
        assert await phones.mark_confirmed(
            session,
            agency="kcmo",
            member_id="unconfirmed",
            phone=roster_entry("unconfirmed")["phone"],
            now=harness.clock.now(),
        )
        await session.commit()
    await harness.outcome(ready, "declined")
    assert await harness.states(incident) == {
        "ready": "declined",
        "off8h": "paged",
        "unconfirmed": "paged",
    }
