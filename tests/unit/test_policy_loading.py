"""Loading agencies and policies from data files: the shipped ones, a new one, and broken ones."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.incident_report import IncidentReport
from shared.policy import (
    DEFAULT_DATA_DIR,
    OnDutySpecialistRule,
    OvertimeRule,
    PolicyDataError,
    Role,
    Status,
    UnknownAgency,
    decide,
    load_registry,
)

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]

THIRD_POLICY = """
id = "spfd-7"
name = "Springfield PD General Order 7, Peer Support"
cite = "GO 7"
criteria_section = "4"

[[criteria]]
id = "4.1"
words = "Any critical incident in which an officer discharged a firearm."
when = { flag = "weapon_discharged" }

[[criteria]]
id = "4.2"
words = "A natural disaster affecting members, with their consent."
consent = true
when = { all = [
  { event = "natural_disaster" },
  { person = { kind = "member", outcome = ["injury", "serious_bodily_injury"] } },
] }

[[criteria]]
id = "4.3"
words = "Any death of a member that is not on duty."
when = { person = { kind = "member", outcome = "death", on_duty = false } }

[[criteria]]
id = "4.4"
words = "Incidents that involve no member at all but a dead member of the public."
when = { all = [
  { not = { person = { kind = "member" } } },
  { person = { kind = "public", outcome = "death" } },
] }
"""

THIRD_AGENCY = """
slug = "spfd"
name = "Springfield Police Department"
policy = "spfd-7"
time_zone = "America/New_York"

[specialists]
per_incident = 3
section = "5"

[on_duty_specialists]
rule = "after_off_duty"
note = "team practice"

[overtime]
rule = "never"
section = "9"

[permissions.additional_specialists]
roles = ["chief"]
section = "5"

[permissions.directed_by_chief]
roles = ["chief"]
section = "4"
"""


def write_data_dir(root: Path, *, policy: str = THIRD_POLICY, agency: str = THIRD_AGENCY) -> Path:
    (root / "policies").mkdir(parents=True, exist_ok=True)
    (root / "agencies").mkdir(parents=True, exist_ok=True)
    (root / "policies" / "spfd-7.toml").write_text(policy)
    (root / "agencies" / "spfd.toml").write_text(agency)
    return root


def report(agency: str, **fields: Any) -> IncidentReport:
    data = {"agency": agency, "occurred_at": "2026-11-20T22:00:00-06:00", "event": "other"}
    return IncidentReport.model_validate({**data, **fields}, context={"now": NOW})


def load_error(root: Path) -> str:
    with pytest.raises(PolicyDataError) as caught:
        load_registry(root)
    return str(caught.value)


def test_the_shipped_agencies_are_configured_as_the_contract_says() -> None:
    registry = load_registry()
    assert registry.slugs == ("kck", "kcmo")
    kcmo, kck = registry.get("kcmo"), registry.get("kck")

    assert (kcmo.policy.id, kcmo.time_zone, kcmo.specialists.per_incident) == (
        "kcmo-830",
        "America/Chicago",
        2,
    )
    assert kcmo.area is not None and kcmo.area.file == "kansas-city-msa.geojson"
    assert kcmo.on_duty_specialists.rule is OnDutySpecialistRule.AFTER_OFF_DUTY
    assert kcmo.on_duty_specialists.remind_supervisor
    assert kcmo.on_duty_specialists.grounds.section == "IV.A.3"
    assert kcmo.overtime.rule is OvertimeRule.WHEN_ACTIVATED_BY_MANAGER
    assert kcmo.overtime.grounds.section == "III.D.1"
    assert kcmo.may_set_additional_specialists.roles == {Role.CHIEF, Role.MANAGER}
    assert kcmo.may_set_additional_specialists.grounds.section == "III.F"
    assert kcmo.may_set_directed_by_chief.roles == {Role.CHIEF, Role.MANAGER}

    assert (kck.policy.id, kck.time_zone, kck.specialists.per_incident, kck.area) == (
        "kck-fop4",
        "America/Chicago",
        2,
        None,
    )
    assert kck.on_duty_specialists.rule is OnDutySpecialistRule.AFTER_BUREAU_DIRECTOR_CONSULT
    assert kck.on_duty_specialists.grounds.section == "F.1"
    assert kck.overtime.rule is OvertimeRule.NEVER
    assert kck.overtime.grounds.section == "F.3"
    assert str(kck.zone) == "America/Chicago"
    assert kck.may_set_additional_specialists.allows("coordinator")
    assert not kck.may_set_directed_by_chief.allows("coordinator")
    assert not kcmo.may_set_additional_specialists.allows("coordinator")


@pytest.mark.parametrize("policy_id", ["kcmo-830", "kck-fop4"])
def test_the_shipped_criteria_quote_the_policies(policy_id: str) -> None:
    policy_text = REPO_ROOT / ".." / "shared" / "policies" / f"{policy_id}.txt"
    if not policy_text.is_file():
        pytest.skip(f"{policy_text} is absent")
    text = " ".join(policy_text.read_text().split())
    for criterion in load_registry().policies[policy_id].criteria:
        if not criterion.id.endswith(".COP"):
            assert criterion.words in text, criterion.id


def test_a_third_agency_needs_no_code_change(tmp_path: Path) -> None:
    registry = load_registry(write_data_dir(tmp_path))
    spfd = registry.get("spfd")
    assert spfd.area is None

    shot = decide(report("spfd", weapon_discharged=True, additional_specialists=1), spfd)
    assert (shot.policy, shot.status, shot.criteria, shot.specialists) == (
        "spfd-7",
        Status.ACTIVATE,
        ("4.1",),
        4,
    )
    assert shot.reasons[0].startswith("GO 7 §4.1: Any critical incident")
    assert shot.reasons[-1] == (
        "4 specialists: 3 per incident (GO 7 §5) plus 1 more authorised for this incident."
    )

    storm = decide(
        report(
            "spfd",
            event="natural_disaster",
            persons=[{"kind": "member", "member_id": "S1", "outcome": "injury"}],
        ),
        spfd,
    )
    assert (storm.status, storm.criteria) == (Status.AWAITING_CONSENT, ("4.2",))

    off_duty = decide(
        report(
            "spfd",
            persons=[{"kind": "member", "member_id": "S2", "outcome": "death", "on_duty": False}],
        ),
        spfd,
    )
    assert off_duty.criteria == ("4.3",)

    public_only = decide(report("spfd", persons=[{"kind": "public", "outcome": "death"}]), spfd)
    assert public_only.criteria == ("4.4",)
    with_member = decide(
        report(
            "spfd",
            persons=[
                {"kind": "public", "outcome": "death"},
                {"kind": "member", "member_id": "S3", "outcome": "none"},
            ],
        ),
        spfd,
    )
    assert (with_member.status, with_member.criteria) == (Status.NOT_COVERED, ())

    chief = decide(report("spfd", directed_by_chief=True), spfd)
    assert (chief.status, chief.criteria) == (Status.ACTIVATE, ())
    assert "(GO 7 §4)" in chief.reasons[0]


def test_a_data_directory_can_add_an_agency_beside_the_shipped_ones(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data")
    registry = load_registry(write_data_dir(tmp_path / "data"))
    assert registry.slugs == ("kck", "kcmo", "spfd")
    assert "spfd" in registry
    assert len(registry) == 3
    assert [agency.slug for agency in registry] == ["kck", "kcmo", "spfd"]


def test_an_unknown_agency_is_a_clear_error() -> None:
    with pytest.raises(UnknownAgency) as caught:
        load_registry().get("nyc")
    assert str(caught.value) == "agency: unknown agency 'nyc' (known: kck, kcmo)"
    assert caught.value.slug == "nyc"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'id = "4.1"\nwords',
            'id = "4.1"\nwhy = "x"\nwords',
            "spfd-7.toml: criterion 4.1.why: Extra inputs are not permitted",
        ),
        (
            '{ flag = "weapon_discharged" }',
            '{ flags = "weapon_discharged" }',
            "spfd-7.toml: criterion 4.1: when: unknown condition 'flags'",
        ),
        (
            '{ flag = "weapon_discharged" }',
            '{ flag = "weapon_fired" }',
            "spfd-7.toml: criterion 4.1: when.flag: unknown flag 'weapon_fired'",
        ),
        (
            '{ event = "natural_disaster" }',
            '{ event = "earthquake" }',
            "spfd-7.toml: criterion 4.2: when.all.0.event: unknown value 'earthquake'",
        ),
        (
            'outcome = ["injury", "serious_bodily_injury"] }',
            'outcomes = ["injury"] }',
            "spfd-7.toml: criterion 4.2: when.all.1.person: unknown key 'outcomes'",
        ),
        (
            'kind = "member", outcome = "death", on_duty = false',
            'outcome = "death", on_duty = false',
            "spfd-7.toml: criterion 4.3: when.person.on_duty: applies to members only",
        ),
        (
            "{ all = [\n  { not",
            "{ all = [], any = [\n  { not",
            "spfd-7.toml: criterion 4.4: when: a condition is a table with exactly one of",
        ),
        (
            "consent = true",
            'consent = "yes"',
            "spfd-7.toml: criterion 4.2.consent: Input should be a valid boolean",
        ),
        (
            'id = "4.3"',
            'id = "4.1"',
            "spfd-7.toml: criterion 4.1 is defined twice",
        ),
        (
            'id = "spfd-7"',
            'id = "spfd-8"',
            "spfd-7.toml: id 'spfd-8' must match the file name 'spfd-7'",
        ),
    ],
    ids=[
        "unknown-criterion-key",
        "unknown-condition",
        "unknown-flag",
        "unknown-event",
        "unknown-person-key",
        "on-duty-without-member",
        "two-keys",
        "string-for-bool",
        "duplicate-id",
        "id-not-file-name",
    ],
)
def test_a_broken_policy_file_names_the_file_and_criterion(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in THIRD_POLICY
    message = load_error(write_data_dir(tmp_path, policy=THIRD_POLICY.replace(old, new, 1)))
    assert expected in message
    assert str(tmp_path) in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('slug = "spfd"', 'slug = "spfd2"', "slug 'spfd2' must match the file name 'spfd'"),
        ('policy = "spfd-7"', 'policy = "spfd-9"', "policy 'spfd-9' has no file"),
        ('"America/New_York"', '"Mars/Olympus"', "unknown time_zone 'Mars/Olympus'"),
        ('rule = "never"', 'rule = "sometimes"', "overtime.rule: Input should be"),
        ('roles = ["chief"]', 'roles = ["mayor"]', "permissions.additional_specialists.roles.0"),
        ("per_incident = 3", "per_incident = 0", "specialists.per_incident: Input should be"),
        ('[overtime]\nrule = "never"\nsection = "9"', '[overtime]\nrule = "never"', "overtime:"),
        (
            "[specialists]",
            '[area]\nfile = "nowhere.geojson"\nname = "x"\nnote = "y"\n\n[specialists]',
            "nowhere.geojson cannot be read",
        ),
        ('name = "Springfield', 'nickname = "x"\nname = "Springfield', "nickname: Extra inputs"),
    ],
    ids=[
        "slug-not-file-name",
        "missing-policy",
        "bad-time-zone",
        "bad-overtime-rule",
        "unknown-role",
        "no-specialists",
        "ungrounded-rule",
        "missing-area-file",
        "unknown-key",
    ],
)
def test_a_broken_agency_file_names_the_file(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in THIRD_AGENCY
    message = load_error(write_data_dir(tmp_path, agency=THIRD_AGENCY.replace(old, new, 1)))
    assert "spfd.toml" in message
    assert expected in message


def test_a_broken_area_file_is_named(tmp_path: Path) -> None:
    write_data_dir(tmp_path)
    (tmp_path / "areas").mkdir()
    (tmp_path / "areas" / "town.geojson").write_text('{"type": "Point", "coordinates": [0, 0]}')
    agency = THIRD_AGENCY.replace(
        "[specialists]",
        '[area]\nfile = "town.geojson"\nname = "the town"\nnote = "x"\n\n[specialists]',
    )
    (tmp_path / "agencies" / "spfd.toml").write_text(agency)
    assert "town.geojson: not a usable GeoJSON area" in load_error(tmp_path)


def test_invalid_toml_is_named(tmp_path: Path) -> None:
    message = load_error(write_data_dir(tmp_path, agency="slug = "))
    assert "spfd.toml: not valid TOML" in message


def test_a_directory_without_agencies_is_an_error(tmp_path: Path) -> None:
    assert "no agency files" in load_error(tmp_path)
