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

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A token from `pst token issue`, scoped to one agency and one role.",
)


def intake_context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.intake
    return context


Intake = Annotated[IntakeContext, Depends(intake_context)]


async def bearer_caller(
    ctx: Intake,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    key = token_hash(credentials.credentials)
    cached = ctx.token_cache.get(key)
    if cached is not None and cached[1] > time.monotonic():
        caller = cached[0]
    else:
        async with unit_of_work(ctx.runtime.sessions) as session:
            found = await caller_for_token(session, credentials.credentials)
        if found is None:
            raise Unauthenticated("the bearer token is not valid")
        caller = found
        if len(ctx.token_cache) > 10_000:
            ctx.token_cache.clear()
        ctx.token_cache[key] = (caller, time.monotonic() + TOKEN_CACHE_SECONDS)
    ctx.token_limiter.check(key, now=ctx.runtime.clock.now().timestamp())
    return caller


BearerCaller = Annotated[Caller, Depends(bearer_caller)]
