"""The `pst` command: one sub-command per module in `pst.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets `run`, a
function taking the parsed arguments and returning the exit code. Exit 2 means the caller's input
was wrong (argparse uses 2 as well), with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "pst.commands.up",
    "pst.commands.serve",
    "pst.commands.classify",
    "pst.commands.migrate",
    "pst.commands.topics",
    "pst.commands.token",
    "pst.commands.user",
    "pst.commands.cad_secret",
    "pst.commands.roster",
    "pst.commands.training",
    "pst.commands.report",
    "pst.commands.directory",
    "pst.commands.retention",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pst", description="Incident activation service for police Peer Support Teams."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
