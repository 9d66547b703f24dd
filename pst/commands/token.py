"""`pst token issue`: a new bearer token for one agency and role, printed once."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands.registry import agencies
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.intake.credentials import issue_token
from shared.policy import Role
from shared.roster.entry import E164


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="bearer tokens for people and systems")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", help="print a new bearer token (shown once)")
    issue.add_argument("--agency", required=True)
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--name", required=True, help="who holds it (shown in the audit log)")
    issue.add_argument(
        "--phone", help="E.164 number for coordinator alerts (coordinators and managers)"
    )
    issue.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry.slugs:
        return fail(
            "token issue", f"unknown agency {args.agency!r}; known: {sorted(registry.slugs)}"
        )
    name = args.name.strip()
    if not name or len(name) > 200:
        return fail("token issue", "--name must be 1 to 200 characters")
    if args.phone is not None and not E164.match(args.phone):
        return fail(
            "token issue", f"--phone {args.phone!r} is not an E.164 number like +18165550100"
        )

    async def issue(session: AsyncSession) -> str:
        return await issue_token(
            session,
            agency=args.agency,
            role=Role(args.role),
            name=name,
            phone=args.phone,
            now=datetime.now(UTC),
        )

    try:
        token = in_one_transaction(issue)
    except NoDatabase as error:
        return fail("token issue", str(error))
    print(token)
    print(
        f"issued by {getpass.getuser()}: keep it secret; it is not stored and is never shown again",
        file=sys.stderr,
    )
    return 0
