"""GET /v1/incidents/{id}: coordinators and managers see their agency's incidents, a reporter
sees their own, nobody sees another agency's (404, as if it did not exist); reads are audited."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.intake.models import AuditEntry
from shared.activation_records import ActivationDecision
from shared.db.unit_of_work import unit_of_work
from tests.integration.intake.conftest import Intake, bearer
from tests.integration.intake.reports import kcmo_death


async def _report(intake: Intake, token: str) -> str:
    answer = await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    assert answer.status_code == 202
    incident_id: str = answer.json()["incident_id"]
    return incident_id


async def test_before_the_decision_the_incident_is_received(intake: Intake) -> None:
    commander = await intake.token("kcmo", "commander")
    incident_id = await _report(intake, commander)
    answer = await intake.client.get(f"/v1/incidents/{incident_id}", headers=bearer(commander))
    assert answer.status_code == 200
    assert answer.json() == {
        "incident_id": incident_id,
        "agency": "kcmo",
        "external_id": "KC-26-000102",
        "revision": 1,
        "status": "received",
        "decision": None,
        "assignments": [],
    }


async def test_the_decision_is_shown_once_made(intake: Intake) -> None:
    commander = await intake.token("kcmo", "commander")
    incident_id = await _report(intake, commander)
    decision = {
        "policy": "kcmo-830",
        "activate": True,
        "status": "activate",
        "criteria": ["III.E.1"],
        "specialists": 2,
        "reasons": ["830 §III.E.1: ..."],
    }
    async with unit_of_work(intake.sessions) as session:
        session.add(
            ActivationDecision(
                incident_id=uuid.UUID(incident_id),
                agency="kcmo",
                revision=1,
                status="activate",
                activate=True,
                criteria=["III.E.1"],
                specialists=2,
                reasons=decision["reasons"],
                decision=decision,
                decided_at=intake.clock.now(),
                reporter_role="commander",
                page_facts={},
                involved_member_ids=["E1002"],
            )
        )
        await session.commit()
    coordinator = await intake.token("kcmo", "coordinator")
    answer = await intake.client.get(f"/v1/incidents/{incident_id}", headers=bearer(coordinator))
    assert answer.status_code == 200
    assert answer.json()["status"] == "activate"
    assert answer.json()["decision"] == decision


async def test_who_may_read_an_incident(intake: Intake) -> None:
    reporter = await intake.token("kcmo", "commander", name="reporting commander")
    incident_id = await _report(intake, reporter)
    path = f"/v1/incidents/{incident_id}"
    for role in ("coordinator", "manager"):
        assert (
            await intake.client.get(path, headers=bearer(await intake.token("kcmo", role)))
        ).status_code == 200
    other_commander = await intake.token("kcmo", "commander", name="another commander")
    assert (await intake.client.get(path, headers=bearer(other_commander))).status_code == 403
    chief = await intake.token("kcmo", "chief")
    assert (await intake.client.get(path, headers=bearer(chief))).status_code == 403
    kck_coordinator = await intake.token("kck", "coordinator")
    other_agency = await intake.client.get(path, headers=bearer(kck_coordinator))
    assert other_agency.status_code == 404
    unknown = await intake.client.get(
        f"/v1/incidents/{uuid.uuid4()}", headers=bearer(kck_coordinator)
    )
    assert unknown.status_code == 404
    assert other_agency.json() == unknown.json(), "another agency's incident looks like none"
    async with unit_of_work(intake.sessions) as session:
        reads = (
            await session.scalars(
                select(AuditEntry.actor_role).where(AuditEntry.action == "incident.read")
            )
        ).all()
    assert sorted(reads) == ["coordinator", "manager"]


async def test_a_malformed_incident_id_is_422(intake: Intake) -> None:
    coordinator = await intake.token("kcmo", "coordinator")
    answer = await intake.client.get("/v1/incidents/not-a-uuid", headers=bearer(coordinator))
    assert answer.status_code == 422
    assert "incident_id" in answer.json()["detail"]
