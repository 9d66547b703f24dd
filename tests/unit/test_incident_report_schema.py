"""The published JSON Schema is the one the model generates."""

from __future__ import annotations

import json
from pathlib import Path

from shared.incident_report import incident_report_json_schema, render_incident_report_json_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "incident-report-v1.schema.json"
REGENERATE = ".venv/bin/python -m shared.incident_report > docs/incident-report-v1.schema.json"


def test_the_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.is_file(), f"missing {SCHEMA_FILE}; run: {REGENERATE}"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_incident_report_json_schema(), (
        f"{SCHEMA_FILE} is out of date; run: {REGENERATE}"
    )


def test_the_schema_forbids_unknown_fields_and_requires_the_essentials() -> None:
    schema = incident_report_json_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"agency", "occurred_at", "event"}
    assert schema["properties"]["occurred_at"]["format"] == "date-time"
    assert schema["$defs"]["Person"]["additionalProperties"] is False
    json.dumps(schema)
