"""Incident reports for the intake tests, built from the shared examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "examples" / "incidents"


def example(name: str) -> dict[str, Any]:
    """The report of one shared example, e.g. `02-kcmo-line-of-duty-death`."""
    report: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())["report"]
    return copy.deepcopy(report)


def kcmo_death(external_id: str | None = "KC-26-000102") -> dict[str, Any]:
    report = example("02-kcmo-line-of-duty-death")
    if external_id is not None:
        report["external_id"] = external_id
    return report
