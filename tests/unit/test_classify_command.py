"""`pst classify FILE`: the decision as JSON, or exit 2 with one line on stderr."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pst.commands import classify, registry

REPORT: dict[str, Any] = {
    "agency": "kcmo",
    "occurred_at": "2026-11-20T22:14:00-06:00",
    "event": "line_of_duty_death",
    "persons": [{"kind": "member", "member_id": "E1002", "outcome": "death", "on_duty": True}],
    "location": {"lat": 39.0997, "lon": -94.5786},
}
REPO_ROOT = Path(__file__).resolve().parents[2]


def run_classify(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="pst")
    classify.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["classify", *argv])
    code: int = args.run(args)
    return code


def write_report(tmp_path: Path, content: str) -> str:
    path = tmp_path / "report.json"
    path.write_text(content)
    return str(path)


def test_a_report_prints_the_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_classify(write_report(tmp_path, json.dumps(REPORT)))

    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    decision = json.loads(out)
    assert list(decision) == ["policy", "activate", "status", "criteria", "specialists", "reasons"]
    assert decision["policy"] == "kcmo-830"
    assert decision["status"] == "activate"
    assert decision["criteria"] == ["III.E.1"]
    assert decision["specialists"] == 2


def test_stdin_is_read_for_a_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps({**REPORT, "agency": "kck"}).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)

    assert run_classify("-") == 0
    assert json.loads(capsys.readouterr().out)["criteria"] == ["B.1.a", "B.1.e"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "Invalid JSON: "),
        ("", "Invalid JSON: "),
        (json.dumps({**REPORT, "pursuit": "true"}), "pursuit: Input should be a valid boolean"),
        (json.dumps({**REPORT, "extra": 1}), "extra: Extra inputs are not permitted"),
        (
            json.dumps({**REPORT, "agency": "nyc"}),
            "agency: unknown agency 'nyc' (known: kck, kcmo)",
        ),
        (json.dumps([REPORT]), "Input should be an object"),
        (
            json.dumps({**REPORT, "occurred_at": "2999-01-01T00:00:00Z"}),
            "occurred_at: must be at most 5 minutes in the future",
        ),
    ],
    ids=[
        "invalid-json",
        "empty",
        "string-for-bool",
        "unknown-field",
        "unknown-agency",
        "list",
        "future",
    ],
)
def test_a_bad_report_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    code = run_classify(write_report(tmp_path, content))

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert expected in err


def test_an_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_classify(str(tmp_path / "missing.json")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "missing.json: cannot be read: No such file or directory" in err


def test_a_directory_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_classify(str(tmp_path)) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_broken_policy_data_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_report(tmp_path, json.dumps(REPORT))
    assert run_classify("--policy-data", str(tmp_path / "nothing"), path) == 1
    err = capsys.readouterr().err
    assert err.startswith("policy data: ")
    assert err.count("\n") == 1


DRIVER = """
import argparse, sys
from pst.commands import classify, registry
parser = argparse.ArgumentParser(prog="pst")
classify.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""


@pytest.mark.parametrize(
    ("stdin", "code"),
    [
        (json.dumps(REPORT), 0),
        ('{"agency": "kcmo", "event": "riot"}', 2),
        ("\xff\xfe not utf-8", 2),
    ],
    ids=["good", "invalid", "not-utf8"],
)
def test_a_process_never_prints_a_traceback(stdin: str, code: int) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, "classify", "-"],
        input=stdin.encode("latin-1"),
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == code, result.stderr
    assert b"Traceback" not in result.stderr
    if code == 0:
        assert json.loads(result.stdout)["activate"] is True
    else:
        assert result.stdout == b""
        assert result.stderr.count(b"\n") == 1


def _agency_data_with(tmp_path: Path, slug: str, per_incident: int) -> Path:
    """The packaged agency data plus one agency of `slug` under kcmo's policy: an agency
    added with a data file, no code."""
    from shared.policy import DEFAULT_DATA_DIR

    data = tmp_path / "agency-data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    kcmo = (data / "agencies" / "kcmo.toml").read_text()
    added = kcmo.replace('slug = "kcmo"', f'slug = "{slug}"').replace(
        "per_incident = 2", f"per_incident = {per_incident}"
    )
    assert added != kcmo
    (data / "agencies" / f"{slug}.toml").write_text(added)
    return data


def test_pst_agency_data_adds_an_agency_with_a_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = write_report(tmp_path, json.dumps({**REPORT, "agency": "bench03"}))
    assert run_classify(report) == 2  # not a packaged agency
    capsys.readouterr()

    monkeypatch.setenv("PST_AGENCY_DATA", str(_agency_data_with(tmp_path, "bench03", 3)))
    assert run_classify(report) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["policy"] == "kcmo-830"
    assert decision["specialists"] == 3
    assert "bench03" in registry.agencies().slugs
