"""`pst roster import --agency A FILE`: replace an agency's roster from JSON or CSV."""

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
from pst.localstack.discovery import effective_settings
from pst.operator_db import NoDatabase, fail, in_one_transaction
from services.intake.audit import record_audit
from services.intake.credentials import Caller
from services.intake.roster import RosterChange, replace_roster
from services.intake.roster_files import read_roster_file
from shared.errors import Conflict, InvalidInput
from shared.kafka.topics import Topics
from shared.roster.actor import Actor


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("roster", help="the agency's roster of specialists")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser("import", help="replace the roster from a JSON list or a CSV file")
    load.add_argument("--agency", required=True)
    load.add_argument("file", help="JSON list or CSV with a header row; - for stdin")
    load.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = agencies()
    if args.agency not in registry.slugs:
        return fail("roster import", f"unknown agency {args.agency!r}")
    try:
        content = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        return fail("roster import", f"cannot read {args.file}: {error.strerror}")
    try:
        entries = read_roster_file(content, agency=args.agency)
    except (InvalidInput, UnicodeDecodeError) as error:
        return fail("roster import", str(error))
    operator = Caller(
        agency=args.agency, role="operator", name=f"pst roster import ({getpass.getuser()})"
    )
    source = "roster file " + ("(stdin)" if args.file == "-" else Path(args.file).name)

    async def replace(session: AsyncSession) -> RosterChange:
        now = datetime.now(UTC)
        change = await replace_roster(
            session,
            agency=registry.get(args.agency),
            entries=entries,
            now=now,
            actor=Actor(role="operator", name=operator.name, via="command"),
            topics=Topics(effective_settings().kafka_topic_prefix),
            source=source[:80],
        )
        record_audit(
            session,
            operator,
            action="roster.replace",
            object_type="roster",
            object_id=args.agency,
            at=now,
            detail=change.as_dict(),
        )
        return change

    try:
        change = in_one_transaction(replace)
    except NoDatabase as error:
        return fail("roster import", str(error))
    except Conflict as error:
        return fail("roster import", error.detail)
    print(json.dumps(change.as_dict()))
    return 0
