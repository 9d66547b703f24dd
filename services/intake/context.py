"""What intake's routes and handlers are given: built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.intake.credentials import CadSecretRow, Caller
from services.intake.new_incidents import NewIncidentWriter
from services.intake.request_limits import RateLimiter
from shared.policy import AgencyRegistry
from shared.runtime import ServiceRuntime

TOKEN_CACHE_SECONDS = 30.0
CAD_SECRET_CACHE_SECONDS = 5.0


@dataclass
class IntakeContext:
    """`new_incidents` stores the reports that name a new incident, those of concurrent
    requests together."""

    runtime: ServiceRuntime
    registry: AgencyRegistry
    token_limiter: RateLimiter
    cad_limiter: RateLimiter
    new_incidents: NewIncidentWriter
    token_cache: dict[str, tuple[Caller, float]] = field(default_factory=dict)
    cad_secret_cache: dict[str, tuple[list[CadSecretRow], datetime]] = field(default_factory=dict)
