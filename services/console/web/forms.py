"""Taking a form or a file from a signed-in person: their session, their role and the form's
CSRF token are checked before anything in it is used."""

from __future__ import annotations

from collections.abc import Collection

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from services.console.accounts.sessions import SignedIn
from services.console.context import ConsoleContext
from services.console.web.security import require_csrf, require_role, signed_in
from shared.errors import InvalidInput, PayloadTooLarge


def console_context(request: Request) -> ConsoleContext:
    console: ConsoleContext = request.app.state.console
    return console


async def _checked(
    request: Request, form: FormData, roles: Collection[str], what: str
) -> tuple[ConsoleContext, SignedIn]:
    ctx = console_context(request)
    async with signed_in(request, ctx.runtime) as (session, user):
        require_role(user, roles, what)
        require_csrf(user, form.get("csrf_token"))
        await session.commit()
    return ctx, user


async def checked_form(
    request: Request, roles: Collection[str], what: str
) -> tuple[ConsoleContext, SignedIn, dict[str, str]]:
    """The form's text fields, once the person may `what` and the token is theirs."""
    form = await request.form()
    ctx, user = await _checked(request, form, roles, what)
    return ctx, user, {k: v for k, v in form.items() if isinstance(v, str)}


async def checked_upload(
    request: Request, roles: Collection[str], what: str, *, limit: int, noun: str
) -> tuple[ConsoleContext, SignedIn, bytes]:
    """The form's file (`file`), at most `limit` bytes, once the person may `what`."""
    form = await request.form(max_part_size=limit)
    ctx, user = await _checked(request, form, roles, what)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(f"file: choose the {noun} to send")
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(f"file: a {noun} is at most {limit // 1024} KiB")
    return ctx, user, content
