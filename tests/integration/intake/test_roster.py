"""PUT /v1/agencies/{agency}/roster and `pst roster import`: the roster replaced as a whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.intake.models import AuditEntry
from shared.db.unit_of_work import unit_of_work
from shared.roster.models import RosterEntry
from tests.integration.intake.conftest import Intake, bearer


def specialist(member_id: str, agency: str = "kcmo", **changes: Any) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "name": f"Specialist {member_id}",
        "agency": agency,
        "phone": "+1816555" + member_id[-4:].rjust(4, "0"),
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
    } | changes


async def _members(intake: Intake, agency: str) -> dict[str, RosterEntry]:
    async with unit_of_work(intake.sessions) as session:
        rows = await session.scalars(select(RosterEntry).where(RosterEntry.agency == agency))
        return {r.member_id: r for r in rows}


async def test_the_roster_is_replaced_as_a_whole(intake: Intake) -> None:
    coordinator = await intake.token("kcmo", "coordinator")
    first = [specialist("P0001"), specialist("P0002"), specialist("P0003")]
    answer = await intake.client.put(
        "/v1/agencies/kcmo/roster", json=first, headers=bearer(coordinator)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "agency": "kcmo",
        "specialists": 3,
        "added": ["P0001", "P0002", "P0003"],
        "removed": [],
        "status_changes": [],
        "phones_to_confirm": ["P0001", "P0002", "P0003"],
        "training_current": "derived from the training records; values sent are not used",
    }
    second = [specialist("P0002", on_duty=True), specialist("P0004", languages=["es"])]
    answer = await intake.client.put(
        "/v1/agencies/kcmo/roster", json=second, headers=bearer(coordinator)
    )
    assert answer.json()["removed"] == ["P0001", "P0003"]
    members = await _members(intake, "kcmo")
    assert sorted(members) == ["P0002", "P0004"]
    assert members["P0002"].on_duty is True
    assert members["P0004"].languages == ["es"]
    async with unit_of_work(intake.sessions) as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions == ["roster.replace", "roster.replace"]


async def test_a_bad_roster_is_refused_and_the_old_one_kept(intake: Intake) -> None:
    coordinator = await intake.token("kcmo", "coordinator")
    await intake.client.put(
        "/v1/agencies/kcmo/roster", json=[specialist("P0001")], headers=bearer(coordinator)
    )
    cases = [
        ([specialist("P0002", phone="816-555-0100")], "1.phone" if False else "0.phone"),
        ([specialist("P0002", status="on leave")], "0.status"),
        # a well-formed name that is not a status of the agency's lifecycle (issue 14)
        ([specialist("P0002", status="retired")], "status: 'retired' is not a status of kcmo"),
        ([specialist("P0002"), specialist("P0002")], "1.member_id"),
        ([specialist("P0002", agency="kck")], "0.agency"),
        ([specialist("P0002") | {"rank": "sgt"}], "0.rank"),
        ([specialist("P0002", on_duty="yes")], "0.on_duty"),
    ]
    for roster, field in cases:
        answer = await intake.client.put(
            "/v1/agencies/kcmo/roster", json=roster, headers=bearer(coordinator)
        )
        assert answer.status_code == 422, (roster, answer.text)
        assert answer.json()["detail"].startswith(field), answer.json()
    assert sorted(await _members(intake, "kcmo")) == ["P0001"]


async def test_only_the_agencys_coordinators_and_managers_replace_it(intake: Intake) -> None:
    roster = [specialist("P0001")]
    commander = await intake.token("kcmo", "commander")
    assert (
        await intake.client.put("/v1/agencies/kcmo/roster", json=roster, headers=bearer(commander))
    ).status_code == 403
    kck_coordinator = await intake.token("kck", "coordinator")
    assert (
        await intake.client.put(
            "/v1/agencies/kcmo/roster", json=roster, headers=bearer(kck_coordinator)
        )
    ).status_code == 403
    manager = await intake.token("kcmo", "manager")
    assert (
        await intake.client.put("/v1/agencies/kcmo/roster", json=roster, headers=bearer(manager))
    ).status_code == 200
    assert await _members(intake, "kck") == {}


def _pst(
    *args: str, database_url: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pst.cli", *args],
        input=stdin,
        capture_output=True,
        env={"PST_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )


async def test_pst_roster_import_reads_csv_and_json(intake: Intake, tmp_path: Path) -> None:
    url = intake.settings.require_database_url()
    csv_file = tmp_path / "roster.csv"
    csv_file.write_text(
        "member_id,name,phone,status,on_duty,on_call,training_current,under_investigation,languages\n"
        "K3001,Alex Roe,+19135550101,active,no,yes,yes,no,en;es\n"
        "K3002,Sam Poe,+19135550102,inactive,false,false,true,false,\n"
    )
    done = _pst("roster", "import", "--agency", "kck", str(csv_file), database_url=url)
    assert done.returncode == 0, done.stderr
    members = await _members(intake, "kck")
    assert sorted(members) == ["K3001", "K3002"]
    assert members["K3001"].languages == ["en", "es"]
    assert members["K3002"].status == "inactive"

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "member_id,name,phone,status,on_duty,on_call,training_current,"
        "under_investigation\nK3003,Kim,+19135550103,active,maybe,no,yes,no\n"
    )
    refused = _pst("roster", "import", "--agency", "kck", str(bad), database_url=url)
    assert refused.returncode == 2
    assert refused.stderr.decode().strip() == (
        "pst roster import: line 2: on_duty: 'maybe' is not true or false"
    )
    assert sorted(await _members(intake, "kck")) == ["K3001", "K3002"]

    import json

    as_json = json.dumps([specialist("K3009", agency="kck")]).encode()
    done = _pst("roster", "import", "--agency", "kck", "-", database_url=url, stdin=as_json)
    assert done.returncode == 0, done.stderr
    assert sorted(await _members(intake, "kck")) == ["K3009"]


async def test_pst_token_issue_and_cad_secret_rotate(intake: Intake) -> None:
    url = intake.settings.require_database_url()
    issued = _pst(
        "token",
        "issue",
        "--agency",
        "kcmo",
        "--role",
        "coordinator",
        "--name",
        "Coordinator One",
        database_url=url,
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.decode().strip()
    assert token.startswith("pst_")
    roster = [specialist("P0001")]
    assert (
        await intake.client.put("/v1/agencies/kcmo/roster", json=roster, headers=bearer(token))
    ).status_code == 200
    wrong = _pst(
        "token", "issue", "--agency", "nowhere", "--role", "chief", "--name", "x", database_url=url
    )
    assert wrong.returncode == 2
    assert "unknown agency" in wrong.stderr.decode()
    secret = _pst("cad-secret", "rotate", "--agency", "kck", database_url=url)
    assert secret.returncode == 0
    assert secret.stdout.decode().startswith("cad_")
