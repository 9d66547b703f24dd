"""What intake's routes and handlers are given: built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.intake.credentials import Caller
from services.intake.request_limits import RateLimiter
from shared.db.engine import SessionFactory
from shared.policy import AgencyRegistry
from shared.runtime import ServiceRuntime

TOKEN_CACHE_SECONDS = 30.0


@dataclass
class IntakeContext:
    """`autocommit_sessions` run each statement as its own transaction: for a unit of work
    that is one statement, which then needs no BEGIN and no COMMIT round trip of its own."""

    runtime: ServiceRuntime
    registry: AgencyRegistry
    token_limiter: RateLimiter
    cad_limiter: RateLimiter
    autocommit_sessions: SessionFactory
    token_cache: dict[str, tuple[Caller, float]] = field(default_factory=dict)
