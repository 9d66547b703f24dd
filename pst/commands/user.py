"""`pst user add`: a console account, its first password and authenticator key printed once."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands import registry
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.console.accounts.users import NewAccount, add_user
from shared.errors import CallerError
from shared.policy import Role


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("user", help="console accounts")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add an account; prints its first password and authenticator key once"
    )
    add.add_argument("--agency", required=True)
    add.add_argument("--role", required=True, help=", ".join(r.value for r in Role))
    add.add_argument("--name", required=True, help="the person's name (shown in the audit log)")
    add.add_argument("--email", required=True, help="what they sign in with")
    add.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    agencies = registry.agencies().slugs
    added_by = f"{getpass.getuser()} (pst user add)"

    async def add(session: AsyncSession) -> NewAccount:
        return await add_user(
            session,
            agency=args.agency,
            role=args.role,
            name=args.name,
            email=args.email,
            now=datetime.now(UTC),
            agencies=agencies,
            added_by=added_by,
        )

    try:
        account = in_one_transaction(add)
    except CallerError as error:
        return fail("user add", error.detail)
    except NoDatabase as error:
        return fail("user add", str(error))
    key = " ".join(account.totp_secret[i : i + 4] for i in range(0, len(account.totp_secret), 4))
    print(f"user:              {account.email} ({account.user_id})")
    print(f"first password:    {account.password}")
    print(f"authenticator key: {key}")
    print(f"authenticator URI: {account.totp_uri}")
    print(
        "Give both to the user, privately: the password as shown (dashes included), and the\n"
        "key typed into an authenticator app (time-based, 6 digits, 30 s) or the URI shown as\n"
        "a QR code for the app to scan (e.g. `qrencode -t ansiutf8 'otpauth://...'`).\n"
        f"Added by {getpass.getuser()}. The password is kept only as a hash: neither is shown"
        " again.",
        file=sys.stderr,
    )
    return 0
