"""POST /v1/incidents: stored once, announced through the outbox, only as the caller may."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from services.intake.models import AuditEntry, Incident
from shared.db.unit_of_work import unit_of_work
from tests.integration.intake.conftest import Intake, bearer
from tests.integration.intake.reports import example, kcmo_death


async def test_a_report_is_stored_and_announced_once(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    answer = await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    assert answer.status_code == 202, answer.text
    incident_id = answer.json()["incident_id"]
    assert answer.json()["status_url"] == f"/v1/incidents/{incident_id}"

    (event,) = await intake.outbox()
    assert event["topic"] == f"{intake.settings.kafka_topic_prefix}incidents"
    assert event["key"] == incident_id
    assert event["type"] == "incident.reported"
    assert event["payload"]["revision"] == 1
    assert event["payload"]["report"]["event"] == "line_of_duty_death"
    assert event["payload"]["reporter"] == {
        "via": "api",
        "role": "commander",
        "name": "commander of kcmo",
    }


async def test_a_repeat_changes_nothing_and_returns_the_first_id(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    first = await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    again = await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["incident_id"] == first.json()["incident_id"]
    assert again.json()["result"] == "unchanged"
    assert len(await intake.outbox()) == 1


async def test_concurrent_identical_reports_make_one_incident(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander")
    answers = await asyncio.gather(
        *[
            intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
            for _ in range(12)
        ]
    )
    assert sorted(a.status_code for a in answers) == [200] * 11 + [202]
    assert len({a.json()["incident_id"] for a in answers}) == 1
    async with unit_of_work(intake.sessions) as session:
        assert await session.scalar(select(func.count()).select_from(Incident)) == 1
    assert len(await intake.outbox()) == 1


async def test_changed_facts_replace_the_report_and_announce_a_new_revision(
    intake: Intake,
) -> None:
    token = await intake.token("kcmo", "commander")
    report = example("04-kcmo-illness-no-consent") | {"external_id": "KC-26-000104"}
    first = await intake.client.post("/v1/incidents", json=report, headers=bearer(token))
    report["consent_given"] = True
    second = await intake.client.post("/v1/incidents", json=report, headers=bearer(token))
    assert second.status_code == 200
    assert second.json() == first.json() | {"result": "updated"}
    events = await intake.outbox()
    assert [e["payload"]["revision"] for e in events] == [1, 2]
    assert events[1]["payload"]["report"]["consent_given"] is True
    async with unit_of_work(intake.sessions) as session:
        stored = await session.get(Incident, uuid.UUID(first.json()["incident_id"]))
        assert stored is not None and stored.revision == 2


async def test_reports_without_external_id_are_separate_incidents(intake: Intake) -> None:
    token = await intake.token("kcmo", "supervisor")
    one = await intake.client.post("/v1/incidents", json=kcmo_death(None), headers=bearer(token))
    two = await intake.client.post("/v1/incidents", json=kcmo_death(None), headers=bearer(token))
    assert (one.status_code, two.status_code) == (202, 202)
    assert one.json()["incident_id"] != two.json()["incident_id"]


async def test_only_a_chief_or_manager_may_direct_an_activation(intake: Intake) -> None:
    report = example("11-kcmo-chief-directs-extra")
    commander = await intake.token("kcmo", "commander")
    refused = await intake.client.post("/v1/incidents", json=report, headers=bearer(commander))
    assert refused.status_code == 403
    assert "directed_by_chief" in refused.json()["detail"]
    assert await intake.outbox() == []
    chief = await intake.token("kcmo", "chief")
    allowed = await intake.client.post("/v1/incidents", json=report, headers=bearer(chief))
    assert allowed.status_code == 202


async def test_a_kck_coordinator_may_authorise_extra_specialists(intake: Intake) -> None:
    report = example("09-kck-weapon-discharged-nobody-hurt") | {"additional_specialists": 1}
    kcmo_coordinator_like = await intake.token("kck", "supervisor")
    refused = await intake.client.post(
        "/v1/incidents", json=report, headers=bearer(kcmo_coordinator_like)
    )
    assert refused.status_code == 403
    assert "additional_specialists" in refused.json()["detail"]
    coordinator = await intake.token("kck", "coordinator")
    allowed = await intake.client.post("/v1/incidents", json=report, headers=bearer(coordinator))
    assert allowed.status_code == 202
    kcmo_coordinator = await intake.token("kcmo", "coordinator")
    kcmo_report = kcmo_death() | {"additional_specialists": 1}
    refused_kcmo = await intake.client.post(
        "/v1/incidents", json=kcmo_report, headers=bearer(kcmo_coordinator)
    )
    assert refused_kcmo.status_code == 403


async def test_a_later_report_from_someone_else_keeps_the_chiefs_direction(
    intake: Intake,
) -> None:
    report = example("11-kcmo-chief-directs-extra") | {"external_id": "KC-26-000111"}
    chief = await intake.token("kcmo", "chief")
    await intake.client.post("/v1/incidents", json=report, headers=bearer(chief))
    resent = report | {
        "directed_by_chief": False,
        "additional_specialists": 0,
        "summary": "Storm damage, officers displaced",
    }
    commander = await intake.token("kcmo", "commander")
    answer = await intake.client.post("/v1/incidents", json=resent, headers=bearer(commander))
    assert answer.status_code == 200
    latest = (await intake.outbox())[-1]["payload"]["report"]
    assert latest["directed_by_chief"] is True
    assert latest["additional_specialists"] == 1
    assert latest["summary"] == "Storm damage, officers displaced"


async def test_a_token_cannot_report_for_another_agency(intake: Intake) -> None:
    token = await intake.token("kck", "commander")
    answer = await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    assert answer.status_code == 403
    assert await intake.outbox() == []


async def test_every_change_is_audited(intake: Intake) -> None:
    token = await intake.token("kcmo", "commander", name="Sgt. Example")
    await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    await intake.client.post("/v1/incidents", json=kcmo_death(), headers=bearer(token))
    async with unit_of_work(intake.sessions) as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        actions = [(e.actor, e.action, e.object_type) for e in entries]
    assert actions == [
        ("Sgt. Example", "incident.create", "incident"),
        ("Sgt. Example", "incident.repeat", "incident"),
    ]
