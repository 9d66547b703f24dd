"""Building reports for the policy tests and asking which criteria they match."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from shared.incident_report import IncidentReport
from shared.policy import AgencyConfig, decide, load_registry

NOW = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)


@cache
def agency(slug: str) -> AgencyConfig:
    return load_registry().get(slug)


def member(member_id: str, outcome: str, *, on_duty: bool = True) -> dict[str, Any]:
    return {"kind": "member", "member_id": member_id, "outcome": outcome, "on_duty": on_duty}


def public(outcome: str) -> dict[str, Any]:
    return {"kind": "public", "outcome": outcome}


def family(member_id: str, outcome: str) -> dict[str, Any]:
    return {"kind": "family", "member_id": member_id, "outcome": outcome}


def matched(slug: str, **fields: Any) -> tuple[str, ...]:
    """The criteria a report of `slug` with these fields matches."""
    data = {"agency": slug, "occurred_at": "2026-11-20T22:00:00-06:00", "event": "other"}
    report = IncidentReport.model_validate({**data, **fields}, context={"now": NOW})
    return decide(report, agency(slug)).criteria
