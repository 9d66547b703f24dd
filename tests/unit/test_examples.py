"""The shared example reports give the decisions CONTRACT §4 expects."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from shared.incident_report import IncidentReport
from shared.policy import AgencyRegistry, decide, load_registry

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / ".." / "shared" / "examples" / "incidents"


@cache
def registry() -> AgencyRegistry:
    return load_registry()


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []


@pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"the shared examples folder {EXAMPLES} is absent"
)
def test_the_examples_folder_is_not_empty() -> None:
    assert len(example_paths()) >= 12


@pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"the shared examples folder {EXAMPLES} is absent"
)
@pytest.mark.parametrize("path", example_paths(), ids=lambda path: path.stem)
def test_example_gives_the_expected_decision(path: Path) -> None:
    example = json.loads(path.read_text())
    report = IncidentReport.model_validate(example["report"])

    decision = decide(report, registry().get(report.agency)).to_dict()

    for field, expected in example["expect"].items():
        if field == "criteria":
            assert sorted(decision[field]) == sorted(expected), field
        else:
            assert decision[field] == expected, field
    assert decision["reasons"], "a decision always says why"
