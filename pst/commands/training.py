"""`pst training import --agency A FILE`: past training attendance from a spreadsheet's CSV
(`date,title,topics,member_id,outcome,memo`), the whole file or nothing. Importing the same
file again updates its sessions' marks and adds no session twice."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pst.commands.registry import agencies
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.intake.audit import record_audit
from services.intake.credentials import Caller
from shared.errors import CallerError
from shared.roster.actor import Actor
from shared.roster.training_files import COLUMNS, read_training_file
from shared.roster.training_sessions import ImportSummary, import_sessions

COMMAND = "training import"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("training", help="the agency's training records")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import", help=f"past attendance from a CSV with the columns {','.join(COLUMNS)}"
    )
    load.add_argument("--agency", required=True)
    load.add_argument("file", help="CSV with a header row; - for stdin")
    load.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry.slugs:
        return fail(COMMAND, f"unknown agency {args.agency!r}")
    agency = registry.get(args.agency)
    try:
        content = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        return fail(COMMAND, f"cannot read {args.file}: {error.strerror}")
    started = datetime.now(UTC)
    try:
        sessions = read_training_file(content, today=started.astimezone(agency.zone).date())
    except CallerError as error:
        return fail(COMMAND, error.detail)
    operator = Caller(
        agency=args.agency, role="operator", name=f"pst training import ({getpass.getuser()})"
    )

    async def load(session: AsyncSession) -> ImportSummary:
        now = datetime.now(UTC)
        summary = await import_sessions(
            session,
            agency,
            sessions,
            actor=Actor(role="operator", name=operator.name, via="command"),
            now=now,
        )
        record_audit(
            session,
            operator,
            action="training.import",
            object_type="training",
            object_id=args.agency,
            at=now,
            detail=summary.as_dict(),
        )
        return summary

    try:
        summary = in_one_transaction(load)
    except NoDatabase as error:
        return fail(COMMAND, str(error))
    except CallerError as error:
        return fail(COMMAND, error.detail)
    print(json.dumps(summary.as_dict()))
    return 0
