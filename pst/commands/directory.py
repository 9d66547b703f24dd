"""`pst directory pdf|rotate`: the team's directory for every member (830 §IV.D.3.i, FOP #4
§A.2): its PDF for the lodge boards, and a new link (the old one stops working at once)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands.registry import agencies
from pst.commands.report import _write_whole as write_whole
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.console.accounts import audit
from services.console.directory import Directory, Link, directory_of, rotate_link
from services.console.directory_pdf import directory_pdf
from services.console.web.pages import BASE, Pages


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("directory", help="the team's directory for every member")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    pdf = actions.add_parser("pdf", help="write the directory as a PDF for the lodge boards")
    pdf.add_argument("--agency", required=True)
    pdf.add_argument("--out", required=True, type=Path, help="the file to write")
    pdf.set_defaults(run=run_pdf)
    rotate = actions.add_parser(
        "rotate", help="make a new link (the first, or one that ends the old at once)"
    )
    rotate.add_argument("--agency", required=True)
    rotate.set_defaults(run=run_rotate)


def run_pdf(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry:
        return fail(
            "directory pdf", f"no agency {args.agency!r} (known: {', '.join(registry.slugs)})"
        )
    out: Path = args.out
    if out.is_dir() or not out.parent.is_dir():
        return fail("directory pdf", f"--out {out}: give a file in an existing folder")
    agency = registry.get(args.agency)

    async def read(session: AsyncSession) -> Directory:
        return await directory_of(session, agency)

    try:
        directory = in_one_transaction(read)
    except NoDatabase as error:
        return fail("directory pdf", str(error))
    content = directory_pdf(Pages(registry), directory, printed_at=datetime.now(UTC))
    write_whole(out, content)
    print(
        f"pst directory: wrote {out} ({len(directory.listed)} specialists, "
        f"{directory.confirming} numbers being confirmed).",
        file=sys.stderr,
    )
    return 0


def run_rotate(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry:
        return fail(
            "directory rotate", f"no agency {args.agency!r} (known: {', '.join(registry.slugs)})"
        )
    operator = f"{getpass.getuser()} (pst directory rotate)"

    async def rotate(session: AsyncSession) -> Link:
        now = datetime.now(UTC)
        link = await rotate_link(session, agency=args.agency, by=operator, now=now)
        audit.record(
            session,
            at=now,
            actor=operator,
            action="directory.rotate",
            agency=args.agency,
            object_type="directory",
            object_id=args.agency,
        )
        return link

    try:
        link = in_one_transaction(rotate)
    except NoDatabase as error:
        return fail("directory rotate", str(error))
    print(f"{BASE}/directory/{link.token}")
    print(
        f"the previous link of {args.agency}, if any, no longer works: put this one (after the "
        "console's address) on the intranet",
        file=sys.stderr,
    )
    return 0
