"""The roster's life through intake's writes (issue 14): a roster file's status changes are
lifecycle steps, audited, and an illegal one refuses the whole roster (409) with nothing
changed; steps taken one by one need their documents, checks, grounds and training; new and
changed phones ask the notifier for a code and are not confirmed until it comes back."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from shared.db.unit_of_work import unit_of_work
from shared.errors import Conflict, InvalidInput
from shared.kafka.topics import Topics
from shared.outbox.models import OutboxMessage
from shared.policy import load_registry
from shared.roster import phones
from shared.roster.actor import Actor
from shared.roster.lifecycle import TransitionRequest
from shared.roster.models import RosterEntry, RosterTransition
from shared.roster.steps import Applicant, history, take_step
from shared.roster.training_records import Mark, record_session
from tests.integration.intake.conftest import Intake, bearer
from tests.integration.intake.test_roster import specialist

REGISTRY = load_registry()
MANAGER = Actor(role="manager", name="Manager One", via="console")


async def _entry(intake: Intake, member_id: str, agency: str = "kcmo") -> RosterEntry:
    async with unit_of_work(intake.sessions) as session:
        row = await session.scalar(
            select(RosterEntry).where(
                RosterEntry.agency == agency, RosterEntry.member_id == member_id
            )
        )
        assert row is not None
        return row


async def _steps(intake: Intake, member_id: str) -> list[tuple[str, str, str, str]]:
    async with unit_of_work(intake.sessions) as session:
        rows = await session.execute(
            select(
                RosterTransition.step,
                RosterTransition.from_status,
                RosterTransition.to_status,
                RosterTransition.actor_name,
            )
            .where(RosterTransition.member_id == member_id)
            .order_by(RosterTransition.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _put(intake: Intake, token: str, roster: list[dict[str, Any]]) -> Any:
    return await intake.client.put("/v1/agencies/kcmo/roster", json=roster, headers=bearer(token))


async def test_a_roster_files_status_changes_are_steps_and_an_illegal_one_changes_nothing(
    intake: Intake,
) -> None:
    token = await intake.token("kcmo", "coordinator", "Coordinator Ames")
    first = await _put(intake, token, [specialist("P0001"), specialist("P0002")])
    assert first.status_code == 200, first.text
    assert first.json()["phones_to_confirm"] == ["P0001", "P0002"]
    assert await _steps(intake, "P0001") == [("recorded", "new", "active", "Coordinator Ames")]
    before = await _entry(intake, "P0002")

    # active → withdrawn is a step, but it needs the written notice
    refused = await _put(
        intake, token, [specialist("P0001", status="withdrawn"), specialist("P0002", name="X")]
    )
    assert refused.status_code == 409
    assert "written notice to the PST Manager" in refused.json()["detail"]
    assert "status_document" in refused.json()["detail"]
    assert (await _entry(intake, "P0002")).name == before.name  # nothing changed
    # inactive → active is no single step: reinstatement goes through the committee
    await _put(
        intake,
        token,
        [
            specialist("P0001", status="inactive", status_document="memo 2026-14"),
            specialist("P0002"),
        ],
    )
    assert (await _entry(intake, "P0001")).status == "active"  # refused: go_inactive has checks
    refused = await _put(intake, token, [specialist("P0001"), specialist("P0002", status="zz")])
    assert refused.status_code == 422
    assert "'zz' is not a status of kcmo" in refused.json()["detail"]

    moved = await _put(
        intake,
        token,
        [
            specialist("P0001", status="withdrawn", status_document="letter of 2026-12-01"),
            specialist("P0002"),
        ],
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status_changes"] == ["P0001"]
    assert moved.json()["phones_to_confirm"] == []
    steps = await _steps(intake, "P0001")
    assert steps[-1] == ("withdraw", "active", "withdrawn", "Coordinator Ames")
    back = await _put(intake, token, [specialist("P0001"), specialist("P0002")])
    assert back.status_code == 409
    assert "cannot come from a roster file" in back.json()["detail"]


async def test_a_phone_is_confirmed_only_by_its_own_code_and_a_change_unconfirms_it(
    intake: Intake,
) -> None:
    token = await intake.token("kcmo", "manager")
    await _put(intake, token, [specialist("P0001")])
    async with unit_of_work(intake.sessions) as session:
        events = [
            row.payload
            for row in await session.scalars(select(OutboxMessage))
            if row.payload["event_type"] == "roster.phone_confirmation_requested"
        ]
    assert [(e["member_id"], e["phone"]) for e in events] == [("P0001", "+18165550001")]
    assert (await _entry(intake, "P0001")).phone_verified_at is None
    async with unit_of_work(intake.sessions) as session:
        wrong = await phones.mark_confirmed(
            session, agency="kcmo", member_id="P0001", phone="+18165559999", now=intake.clock.now()
        )
        right = await phones.mark_confirmed(
            session, agency="kcmo", member_id="P0001", phone="+18165550001", now=intake.clock.now()
        )
        await session.commit()
    assert (wrong, right) == (False, True)
    assert (await _entry(intake, "P0001")).phone_verified_at is not None
    await _put(intake, token, [specialist("P0001", on_duty=True)])
    assert (await _entry(intake, "P0001")).phone_verified_at is not None  # same phone
    await _put(intake, token, [specialist("P0001", phone="+18165550101")])
    assert (await _entry(intake, "P0001")).phone_verified_at is None


async def test_an_application_to_active_needs_each_steps_document_checks_and_training(
    intake: Intake,
) -> None:
    kcmo = REGISTRY.get("kcmo")
    now = intake.clock.now()
    topics = Topics(intake.settings.kafka_topic_prefix)

    async def step(name: str, **given: Any) -> str:
        request = TransitionRequest(
            transition=name,
            role=given.pop("role", "manager"),
            reason=given.pop("reason", "as the committee decided"),
            document=given.pop("document", None),
            checks=frozenset(given.pop("checks", ())),
            grounds=given.pop("grounds", None),
        )
        async with unit_of_work(intake.sessions) as session:
            try:
                done = await take_step(
                    session,
                    topics,
                    kcmo,
                    member_id="A0001",
                    request=request,
                    actor=MANAGER,
                    now=now,
                    **given,
                )
            except Conflict as error:
                return f"409 {error.detail}"
            await session.commit()
        return done.target

    applicant = Applicant(member_id="A0001", name="Applicant One", phone="+18165550777")
    assert (await step("apply", applicant=applicant)).startswith("409 “Application received” needs")
    assert await step("apply", applicant=applicant, document="request 2026-77") == "applicant"
    refused = await step("confirm_eligibility", checks={"no_post_suspension"})
    assert refused.startswith("409 not confirmed: Not the subject of a criminal investigation")
    assert "§IV.E.2.b" in refused
    assert (
        await step(
            "confirm_eligibility",
            checks={"no_post_suspension", "no_investigation", "confidentiality"},
        )
        == "eligible"
    )
    assert (await step("pass_interview", role="coordinator", document="x")).startswith(
        "409 “Passed the structured oral interview before the PST Advisory Committee” is "
        "recorded by manager, not by a coordinator"
    )
    assert await step("pass_interview", document="interview 2026-12-02") == "in_training"
    assert (await step("complete_training")).startswith("409 “Completed the training")
    assert (await _entry(intake, "A0001")).training_valid_until is None
    async with unit_of_work(intake.sessions) as session:
        await record_session(
            session,
            kcmo,
            held_on=now.astimezone(kcmo.zone).date(),
            title="PSS initial training",
            topics=["listening"],
            marks=[Mark("A0001", "attended")],
            actor=MANAGER,
            now=now,
        )
        await session.commit()
    assert await step("complete_training") == "active"
    entry = await _entry(intake, "A0001")
    assert entry.status == "active" and entry.training_valid_until is not None
    assert (await step("complete_training")).startswith(
        "409 “Completed the training the PST Advisory Committee requires” cannot follow “active”"
    )
    async with unit_of_work(intake.sessions) as session:
        steps = await history(session, "kcmo", "A0001")
    assert [s.step for s in steps] == [
        "complete_training",
        "pass_interview",
        "confirm_eligibility",
        "apply",
    ]
    assert steps[-1].document == "request 2026-77" and steps[-1].actor_name == "Manager One"


@pytest.mark.parametrize("excused_memo", [None, "memo 2026-Q3-4"])
async def test_an_excused_absence_needs_its_memo(intake: Intake, excused_memo: str | None) -> None:
    kcmo = REGISTRY.get("kcmo")
    token = await intake.token("kcmo", "manager")
    await _put(intake, token, [specialist("P0001")])
    async with unit_of_work(intake.sessions) as session:
        try:
            await record_session(
                session,
                kcmo,
                held_on=date(2026, 11, 1),
                title="Q4 training",
                topics=[],
                marks=[Mark("P0001", "excused", excused_memo)],
                actor=MANAGER,
                now=intake.clock.now(),
            )
        except InvalidInput as error:
            assert excused_memo is None
            assert "memo the committee approved" in error.detail
            return
        await session.commit()
    assert excused_memo is not None
    assert (await _entry(intake, "P0001")).training_valid_until is not None
