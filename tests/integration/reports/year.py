"""A generated year of one agency's incidents, pages, answers and logged contacts, as the
pipeline's events (and intake's stored reports), with what the statistics must say of it
counted here independently of `services.reports`."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.console.projection_consumer import ProjectionHandler
from services.intake.models import Incident
from shared.db.engine import SessionFactory
from shared.db.unit_of_work import unit_of_work
from shared.events import (
    ActivationClosed,
    ActivationDecided,
    AnyEvent,
    AssignmentChanged,
    ContactLogged,
    ContactLogInvited,
    IncidentReported,
    OvertimeHoursLogged,
    PageFacts,
    Reporter,
)

ZONE = ZoneInfo("America/Chicago")
CRITERIA = ("III.E.1", "III.E.2", "III.E.3", "III.E.4", "III.E.6")
NAMES = ("Avery Quinn", "Blake Moreno", "Casey Lindqvist", "Devon Okafor", "Emery Hollis")
MEMBERS = tuple(f"M{n:04d}" for n in range(1, 41))
HARMED = ("Jordan Vasquez-Pryce", "Riley Ashdown")
"""Persons in the reports: must never reach a statistic."""


@dataclass
class Expected:
    """Raw counts by (measure, month), before suppression."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    first_s: dict[str, list[float]] = field(default_factory=dict)
    incident_ids: list[uuid.UUID] = field(default_factory=list)
    member_ids: set[str] = field(default_factory=set)


@dataclass
class Year:
    events: list[AnyEvent]
    incidents: list[Incident]
    expected: Expected


def _month(moment: datetime) -> str:
    local = moment.astimezone(ZONE)
    return f"{local.year}-{local.month:02d}"


def _moved(
    incident_id: uuid.UUID, assignment: uuid.UUID, member: str, state: str, at: datetime
) -> AnyEvent:
    return AssignmentChanged(
        occurred_at=at,
        assignment_id=assignment,
        incident_id=incident_id,
        agency="kcmo",
        member_id=member,
        state=state,
    )


def generate_year(
    seed: int, *, year: int = 2026, incidents: int = 260, specialists: int = 40
) -> Year:
    rng = random.Random(seed)
    events: list[AnyEvent] = []
    rows: list[Incident] = []
    expected = Expected()
    pool = [f"M{n:04d}" for n in range(1, specialists + 1)]
    start = datetime(year, 1, 1, 6, tzinfo=UTC)
    # some months are quiet, so that small counts and their protection are exercised
    weights = [rng.choice((0.2, 1.0, 1.0, 3.0)) for _ in range(12)]
    for _ in range(incidents):
        month = rng.choices(range(12), weights=weights)[0]
        day = rng.randrange(27)
        reported = datetime(
            year, month + 1, 1 + day, rng.randrange(24), rng.randrange(60), tzinfo=UTC
        )
        reported = max(reported, start)
        incident_id = uuid.uuid4()
        expected.incident_ids.append(incident_id)
        m = _month(reported)
        activate = rng.random() < 0.8
        criteria = sorted(rng.sample(CRITERIA, rng.choice((1, 1, 1, 2)))) if activate else []
        needed = 2 if activate else 0
        report = {
            "agency": "kcmo",
            "event": "officer_involved_shooting",
            "summary": f"{HARMED[0]} was shot at {rng.randrange(100, 9999)} Troost Ave",
            "address": f"{rng.randrange(100, 9999)} Troost Ave",
            "persons": [{"name": HARMED[rng.randrange(2)], "role": "member"}],
        }
        facts = PageFacts(
            agency="kcmo",
            occurred_at=reported - timedelta(minutes=5),
            time_zone="America/Chicago",
            event="officer_involved_shooting",
            address=report["address"],
        )
        rows.append(
            Incident(
                id=incident_id,
                agency="kcmo",
                external_id=f"CAD-{incident_id.hex[:8]}",
                revision=1,
                report=report,
                report_digest=incident_id.hex,
                reporter_via="cad",
                reporter_role="cad",
                reporter_name="CAD system (kcmo)",
                reporter_token_id=None,
                received_at=reported,
                updated_at=reported,
            )
        )
        events.append(
            IncidentReported(
                occurred_at=reported,
                incident_id=incident_id,
                agency="kcmo",
                revision=1,
                report=report,
                reporter=Reporter(via="cad", role="cad", name="CAD system (kcmo)"),
            )
        )
        events.append(
            ActivationDecided(
                occurred_at=reported + timedelta(seconds=1),
                incident_id=incident_id,
                agency="kcmo",
                revision=1,
                status="activate" if activate else "not_covered",
                activate=activate,
                criteria=criteria,
                specialists=needed,
                reasons=[],
                facts=facts,
            )
        )
        expected.counts["reports", m] += 1
        if not activate:
            continue
        expected.counts["activations", m] += 1
        for criterion in criteria:
            expected.counts[f"criterion.{criterion}", m] += 1
        accepted: list[datetime] = []
        members = rng.sample(pool, 5)
        clock = reported + timedelta(seconds=2)
        for member in members:
            if len(accepted) >= needed:
                break
            assignment = uuid.uuid4()
            expected.member_ids.add(member)

            def moved(state: str, at: datetime) -> AnyEvent:
                return _moved(incident_id, assignment, member, state, at)  # noqa: B023

            events.append(moved("paged", clock))
            expected.counts["pages", m] += 1
            fate = rng.choices(("accept", "decline", "call_accept", "timeout"), (5, 2, 2, 1))[0]
            if fate == "call_accept" or fate == "timeout":
                clock += timedelta(seconds=120)
                events.append(moved("calling", clock))
                expected.counts["calls", m] += 1
            clock += timedelta(seconds=rng.randrange(20, 200))
            if fate in ("accept", "call_accept"):
                events.append(moved("accepted", clock))
                accepted.append(clock)
                ended = clock + timedelta(hours=rng.choice((2, 5, 24)))
                events.append(
                    ContactLogInvited(
                        occurred_at=ended,
                        assignment_id=assignment,
                        incident_id=incident_id,
                        agency="kcmo",
                        member_id=member,
                        phone="+18165550100",
                        accepted_at=clock,
                        ended_at=ended,
                        overtime_eligible=rng.random() < 0.3,
                    )
                )
                events.append(
                    OvertimeHoursLogged(
                        occurred_at=ended, assignment_id=assignment, agency="kcmo", hours=2.5
                    )
                )
            elif fate == "decline":
                events.append(moved("declined", clock))
                expected.counts["declines", m] += 1
            else:
                events.append(moved("timed_out", clock))
                expected.counts["timeouts", m] += 1
        if accepted:
            expected.first_s.setdefault(m, []).append((accepted[0] - reported).total_seconds())
        key = "activations.staffed" if len(accepted) >= needed else "activations.short"
        expected.counts[key, m] += 1
        if rng.random() < 0.5:
            events.append(
                ActivationClosed(
                    occurred_at=clock + timedelta(hours=3),
                    incident_id=incident_id,
                    agency="kcmo",
                    reason="stood_down",
                    closed_by="Coordinator Example",
                )
            )
    for _ in range(incidents // 2):
        month = rng.choices(range(12), weights=weights)[0]
        m = f"{year}-{month + 1:02d}"
        source = rng.choice(("incident", "incident", "direct"))
        kind = rng.choice(("member", "member", "family"))
        referral = rng.choice(("eap", "mhp", "other", "none", "none"))
        events.append(
            ContactLogged(
                occurred_at=datetime(year, month + 1, 10, tzinfo=UTC),
                contact_id=uuid.uuid4(),
                agency="kcmo",
                month=m,
                source=source,
                people=rng.randrange(1, 4),
                kind=kind,
                referral=referral,
                hours=rng.choice((0.5, 1.0, 1.5, 3.0)),
            )
        )
        for key in ("contacts", f"contacts.{source}", f"contacts.{kind}", f"contacts.{referral}"):
            expected.counts[key, m] += 1
    return Year(events, rows, expected)


async def load_year(sessions: SessionFactory, year: Year) -> None:
    """Intake's stored reports, and every event through the console's real projector."""
    async with unit_of_work(sessions) as session:
        session.add_all(year.incidents)
        await session.commit()
    handler = ProjectionHandler(sessions)
    for start in range(0, len(year.events), 200):
        await handler.handle_batch(year.events[start : start + 200])


async def stored_reports(session: AsyncSession) -> list[dict[str, object]]:
    from sqlalchemy import select

    return list((await session.scalars(select(Incident.report))).all())
