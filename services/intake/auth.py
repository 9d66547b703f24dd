"""Who is calling: the bearer token, checked against its stored hash (cached briefly)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.context import TOKEN_CACHE_SECONDS, IntakeContext
from services.intake.credentials import Caller, caller_for_token
from services.intake.token_codec import token_hash
from shared.db.unit_of_work import unit_of_work
from shared.errors import Unauthenticated

BEARER_REQUIRED = "a bearer token is required (Authorization: Bearer <token>)"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A token from `pst token issue`, scoped to one agency and one role.",
)


async def intake_context(request: Request) -> IntakeContext:
    """Async, though it awaits nothing: FastAPI runs a plain function dependency in a worker
    thread, a thread hop per request for an attribute read."""
    context: IntakeContext = request.app.state.intake
    return context


Intake = Annotated[IntakeContext, Depends(intake_context)]


async def bearer_caller(
    ctx: Intake,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated(BEARER_REQUIRED)
    return await token_caller(ctx, credentials.credentials)


async def request_caller(request: Request) -> tuple[IntakeContext, Caller]:
    """`Intake` and `BearerCaller` without FastAPI's dependency resolution, for the route that
    takes every report: resolving those two dependencies cost more than checking the token.
    Reads the header as `HTTPBearer` does, so callers see the same answers."""
    ctx: IntakeContext = request.app.state.intake
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(BEARER_REQUIRED)
    return ctx, await token_caller(ctx, token)


async def token_caller(ctx: IntakeContext, token: str) -> Caller:
    """The token's holder (looked up at most every 30 s per process), within its rate."""
    key = token_hash(token)
    cached = ctx.token_cache.get(key)
    if cached is not None and cached[1] > time.monotonic():
        caller = cached[0]
    else:
        async with unit_of_work(ctx.runtime.sessions) as session:
            found = await caller_for_token(session, token)
        if found is None:
            raise Unauthenticated("the bearer token is not valid")
        caller = found
        if len(ctx.token_cache) > 10_000:
            ctx.token_cache.clear()
        ctx.token_cache[key] = (caller, time.monotonic() + TOKEN_CACHE_SECONDS)
    ctx.token_limiter.check(key, now=ctx.runtime.clock.now().timestamp())
    return caller


BearerCaller = Annotated[Caller, Depends(bearer_caller)]
