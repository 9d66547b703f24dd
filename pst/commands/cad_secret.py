"""`pst cad-secret rotate`: a new CAD signing secret; the old one stays valid for a while."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands.registry import agencies
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.intake.credentials import CAD_SECRET_GRACE, rotate_cad_secret


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cad-secret", help="the agency's CAD webhook signing secret")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = actions.add_parser("rotate", help="print a new secret; the previous stays valid")
    rotate.add_argument("--agency", required=True)
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=CAD_SECRET_GRACE.total_seconds() / 3600,
        help="how long the previous secret keeps working (default 24)",
    )
    rotate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.agency not in agencies().slugs:
        return fail("cad-secret rotate", f"unknown agency {args.agency!r}")
    if not 0 <= args.grace_hours <= 24 * 30:
        return fail("cad-secret rotate", "--grace-hours must be between 0 and 720")
    grace = timedelta(hours=args.grace_hours)

    async def rotate(session: AsyncSession) -> str:
        return await rotate_cad_secret(
            session, agency=args.agency, now=datetime.now(UTC), grace=grace
        )

    try:
        secret = in_one_transaction(rotate)
    except NoDatabase as error:
        return fail("cad-secret rotate", str(error))
    print(secret)
    print(
        f"the previous secret of {args.agency} stays valid for {args.grace_hours:g} h",
        file=sys.stderr,
    )
    return 0
