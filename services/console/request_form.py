"""The "request the team" form (830 §III.E.6, FOP #4 §B.1.h) as an incident report (pure).

It makes exactly the report `POST /v1/incidents` takes: the form's fields are turned into that
JSON and validated by the same model, so a form can never say more or less than the API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from shared.errors import InvalidInput
from shared.incident_report import Event, IncidentReport, Outcome, validation_error_line
from shared.policy import Role

EVENTS = [e.value for e in Event]
OUTCOMES = [o.value for o in Outcome]
MAX_MEMBERS = 20
FIELDS = (
    "event",
    "occurred_at",
    "address",
    "lat",
    "lon",
    "external_id",
    "members",
    "person_kind",
    "outcome",
    "on_duty",
    "consent_given",
)


def blank_form(now: datetime, zone: str) -> dict[str, str]:
    local = now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    return {
        "event": Event.OFFICER_INVOLVED_SHOOTING.value,
        "occurred_at": local,
        "address": "",
        "lat": "",
        "lon": "",
        "external_id": "",
        "members": "",
        "person_kind": "member",
        "outcome": Outcome.NONE.value,
        "on_duty": "true",
        "consent_given": "",
    }


def _local_time(text: str, zone: str) -> str:
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise InvalidInput("occurred_at: give the date and time it happened") from None
    return moment.replace(tzinfo=ZoneInfo(zone)).isoformat()


def _coordinate(form: Mapping[str, str], name: str) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{name}: a number in decimal degrees, e.g. 39.0997") from None


def report_from_form(
    form: Mapping[str, str],
    *,
    agency: str,
    zone: str,
    role: str,
    now: datetime,
    agencies: frozenset[str],
) -> IncidentReport:
    """The report the form describes; InvalidInput names the field that is wrong."""
    members = [m.strip() for m in form.get("members", "").replace(";", ",").split(",")]
    members = [m for m in members if m]
    if len(members) > MAX_MEMBERS:
        raise InvalidInput(f"members: at most {MAX_MEMBERS} member ids")
    kind = form.get("person_kind", "member")
    person: dict[str, Any] = {"kind": kind, "outcome": form.get("outcome", "none")}
    if kind == "member":
        person["on_duty"] = form.get("on_duty") == "true"
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "lon")
    address = form.get("address", "").strip()
    location: dict[str, Any] | None = None
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise InvalidInput("location: give both latitude and longitude, or neither")
        location = {"lat": lat, "lon": lon} | ({"address": address} if address else {})
    elif address:
        raise InvalidInput(
            "location: an address needs its latitude and longitude too "
            "(the Use my location button fills them in)"
        )
    report: dict[str, Any] = {
        "agency": agency,
        "occurred_at": _local_time(form.get("occurred_at", ""), zone),
        "event": form.get("event", ""),
        "persons": [person | {"member_id": m} for m in members],
        "requested_by_commander": role in (Role.COMMANDER, Role.SUPERVISOR),
        "consent_given": form.get("consent_given") == "true",
    }
    if location is not None:
        report["location"] = location
    external_id = form.get("external_id", "").strip()
    if external_id:
        report["external_id"] = external_id
    try:
        return IncidentReport.model_validate(report, context={"now": now, "agencies": agencies})
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None


def report_from_file(
    content: bytes, *, agency: str, now: datetime, agencies: frozenset[str]
) -> IncidentReport:
    """A report sent as a file: the JSON `POST /v1/incidents` takes, or an example file that
    holds one under `report`. It must be the signed-in person's agency's."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"file: not a JSON document ({error})") from None
    if isinstance(document, dict) and isinstance(document.get("report"), dict):
        document = document["report"]
    if not isinstance(document, dict):
        raise InvalidInput("file: expected a JSON object, the incident report")
    if document.get("agency") != agency:
        raise InvalidInput(
            f"agency: the report is for {document.get('agency')!r}; you can send reports "
            f"for {agency!r} only"
        )
    try:
        return IncidentReport.model_validate(document, context={"now": now, "agencies": agencies})
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None
