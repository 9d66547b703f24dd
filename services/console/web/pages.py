"""Rendering the console's pages (Jinja2, autoescaped), with the filters they use."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from services.console.wording import (
    NEXT_STEP_WORDS,
    OUTCOME_WORDS,
    alert_reason_text,
    state_text,
    status_text,
)
from services.reports.documents import dollars
from shared.policy import AgencyRegistry

BASE = "/console"
"""Where the console is served: every link and form starts here."""


def _local(value: datetime | str | None, zone: str, with_date: bool = True) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%a %d %b %H:%M") if with_date else local.strftime("%H:%M:%S")


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


class Pages:
    """The templates of `services/console/templates`, rendered with the agency's own clock
    face (its time zone) and policy wording."""

    def __init__(self, registry: AgencyRegistry) -> None:
        self._registry = registry
        self.env = Environment(
            loader=ChoiceLoader(
                [
                    PackageLoader("services.console", "templates"),
                    PackageLoader("services.reports", "templates"),
                ]
            ),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # package data: no file changes under a running service
        )
        self.env.globals.update(base=BASE, assets=f"{BASE}/static")
        self.env.filters.update(
            local=_local,
            words=_words,
            status_text=status_text,
            state_text=state_text,
            outcome_text=lambda outcome: OUTCOME_WORDS.get(outcome or "", _words(outcome)),
            alert_reason=alert_reason_text,
            next_step=lambda state: NEXT_STEP_WORDS.get(state, ""),
            iso=lambda value: value.isoformat() if value else "",
            dollars=dollars,
        )

    def agency_globals(self, agency: str) -> dict[str, Any]:
        config = self._registry.get(agency)
        criteria = {c.id: c.words for c in config.policy.criteria}
        policy = config.policy
        cite = policy.cite if len(policy.cite) <= 12 else policy.criteria_section.split()[0]
        return {
            "agency": config,
            "zone": config.time_zone,
            "cite": cite,
            "criteria_words": criteria,
        }

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)
