"""Reading a roster file for `pst roster import`: a JSON list (as the API takes) or a CSV with
the same column names. Pure: bytes in, validated entries out, errors that name row and field."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from services.intake.handlers import check_roster, parse_roster
from shared.errors import InvalidInput
from shared.incident_report import validation_error_line
from shared.roster.entry import RosterEntryIn

BOOLEAN_COLUMNS = ("on_duty", "on_call", "training_current", "under_investigation")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def read_roster_file(content: bytes, *, agency: str) -> list[RosterEntryIn]:
    text = content.decode("utf-8-sig").lstrip()
    if text.startswith("["):
        return parse_roster(text.encode(), agency)
    return _read_csv(text, agency)


def _read_csv(text: str, agency: str) -> list[RosterEntryIn]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InvalidInput("the file is empty: expected a JSON list or a CSV with a header row")
    entries: list[RosterEntryIn] = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise InvalidInput(f"line {number}: more cells than header columns")
        record: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        record.setdefault("agency", agency)
        for column in BOOLEAN_COLUMNS:
            if column in record:
                record[column] = _boolean(record[column], number, column)
        languages = record.pop("languages", "")
        record["languages"] = [
            p.strip() for p in languages.replace("|", ";").split(";") if p.strip()
        ]
        try:
            entries.append(RosterEntryIn.model_validate(record))
        except ValidationError as error:
            raise InvalidInput(f"line {number}: {validation_error_line(error)}") from None
    check_roster(entries, agency)
    return entries


def _boolean(value: str, line: int, column: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(f"line {line}: {column}: {value!r} is not true or false")
