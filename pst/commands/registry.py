"""The agencies a command works with: those of `PST_AGENCY_DATA`, or the packaged ones."""

from __future__ import annotations

from shared.policy import AgencyRegistry, load_registry
from shared.settings import Settings


def agencies() -> AgencyRegistry:
    return load_registry(Settings().agency_data)
