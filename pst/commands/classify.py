"""`pst classify FILE`: print the decision (CONTRACT §4) for an incident report.

A bad report (unreadable, not JSON, invalid, unknown agency) exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from shared.incident_report import IncidentReport, validation_error_line
from shared.policy.engine import decide
from shared.policy.errors import PolicyDataError, UnknownAgency
from shared.policy.loading import load_registry
from shared.settings import Settings

EXIT_BAD_REPORT = 2
EXIT_BAD_POLICY_DATA = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="print the activation decision for an incident report",
        description="Print the activation decision (JSON) for the incident report in FILE.",
    )
    parser.add_argument("path", metavar="FILE", help="incident report JSON file, or - for stdin")
    parser.add_argument(
        "--policy-data",
        type=Path,
        default=None,
        metavar="DIR",
        help="policy data directory (default: PST_AGENCY_DATA, else the packaged data)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path: str = args.path
    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        return _fail(f"{path}: cannot be read: {error.strerror or error}")
    try:
        registry = load_registry(args.policy_data or Settings().agency_data)
    except PolicyDataError as error:
        return _fail(f"policy data: {error}", code=EXIT_BAD_POLICY_DATA)
    try:
        report = IncidentReport.model_validate_json(text, context={"agencies": registry.slugs})
    except ValidationError as error:
        return _fail(validation_error_line(error))
    try:
        agency = registry.get(report.agency)
    except UnknownAgency as error:
        return _fail(str(error))
    print(decide(report, agency).to_json(indent=2))
    return 0


def _fail(line: str, *, code: int = EXIT_BAD_REPORT) -> int:
    print(line.replace("\n", " "), file=sys.stderr)
    return code
