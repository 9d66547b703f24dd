"""The parts of intake's OpenAPI document FastAPI cannot infer: request bodies we parse
ourselves (the CAD signature covers the raw bytes), their schemas and examples, and the CAD
signature's security scheme."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from shared.incident_report import IncidentReport
from shared.roster.entry import RosterEntryIn

CAD_SIGNATURE = "CadSignature"
_REF = "#/components/schemas/{model}"

REPORT_EXAMPLE: dict[str, Any] = {
    "agency": "kcmo",
    "external_id": "KC-26-000101",
    "occurred_at": "2026-11-20T22:14:00-06:00",
    "event": "officer_involved_shooting",
    "persons": [
        {"kind": "member", "member_id": "E1001", "outcome": "none", "on_duty": True},
        {"kind": "public", "outcome": "death"},
    ],
    "location": {"lat": 39.0997, "lon": -94.5786, "address": "12th St & Grand Blvd"},
    "weapon_discharged": True,
}
INCIDENT_ACCEPTED_EXAMPLE: dict[str, Any] = {
    "incident_id": "6f1c2b9e-3f8a-4d8e-9a57-2f0c8f9b1d2a",
    "status_url": "/v1/incidents/6f1c2b9e-3f8a-4d8e-9a57-2f0c8f9b1d2a",
    "result": "created",
}
ROSTER_EXAMPLE: list[dict[str, Any]] = [
    {
        "member_id": "E2001",
        "name": "Pat Doe",
        "agency": "kcmo",
        "phone": "+18165550100",
        "status": "active",
        "on_duty": False,
        "on_call": True,
        "training_current": True,
        "under_investigation": False,
        "languages": ["en", "es"],
    }
]

REPORT_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"$ref": _REF.format(model="IncidentReport")},
            "example": REPORT_EXAMPLE,
        }
    },
}
ROSTER_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": 2000,
                "items": {"$ref": _REF.format(model="RosterEntryIn")},
            },
            "example": ROSTER_EXAMPLE,
        }
    },
}


def _component_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, adapter in (
        ("IncidentReport", TypeAdapter(IncidentReport)),
        ("RosterEntryIn", TypeAdapter(RosterEntryIn)),
    ):
        schema = adapter.json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schema.pop("$schema", None)
        schema.pop("$id", None)
        schemas[name] = schema
    return schemas


def install_openapi(app: FastAPI) -> None:
    """Complete the generated document once, on first request for it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(_component_schemas())
        components.setdefault("securitySchemes", {})[CAD_SIGNATURE] = {
            "type": "apiKey",
            "in": "header",
            "name": "X-PST-Signature",
            "description": (
                't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> keyed by the '
                "agency's CAD secret (`pst cad-secret rotate`); at most 300 s old or ahead."
            ),
        }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
