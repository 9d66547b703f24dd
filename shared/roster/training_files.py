"""Reading past training attendance from a spreadsheet's CSV (issue 14), for the console's
upload and `pst training import`. Pure: bytes in, sessions out, errors that name the line.

Columns `date,title,topics,member_id,outcome,memo`: one row per member per session; rows with
the same date and title are one session. `date` is YYYY-MM-DD (the agency's local day),
`topics` are separated by `;` (the first row of a session gives them; a later row may leave
them empty, or repeat them), `outcome` is `attended` or `excused`, and an excused absence names
the memo the committee approved (830 §IV.E.3.f). Any fault refuses the whole file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from shared.errors import InvalidInput
from shared.roster.training_records import MAX_TOPICS, Mark

COLUMNS = ("date", "title", "topics", "member_id", "outcome", "memo")
REQUIRED = ("date", "title", "member_id", "outcome")
MAX_ROWS = 20_000
MAX_TITLE = 120
MAX_TOPIC = 80
MAX_MEMBER_ID = 64
MAX_MEMO = 120
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class MarkLine:
    """A member's mark and the file's line it came from (for errors found later)."""

    mark: Mark
    line: int


@dataclass(slots=True)
class ImportedSession:
    held_on: date
    title: str
    topics: tuple[str, ...]
    line: int
    """The line of its first row."""
    marks: list[MarkLine] = field(default_factory=list)

    @property
    def key(self) -> tuple[date, str]:
        return self.held_on, self.title.casefold()


def read_training_file(content: bytes, *, today: date) -> list[ImportedSession]:
    """The sessions of an attendance CSV, in the order they first appear; `today` is the
    agency's local date (no session is held in the future)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file: not UTF-8 text (save the CSV as UTF-8)") from None
    if "\x00" in text:
        raise InvalidInput("file: contains the NUL character; save it as a plain CSV")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or [] if name is not None]
    if not header:
        raise InvalidInput(f"the file is empty: expected a header row {','.join(COLUMNS)}")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"line 1: unknown columns {', '.join(unknown)}; the columns are {','.join(COLUMNS)}"
        )
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput(f"line 1: missing columns {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise InvalidInput("line 1: a column is named twice")
    reader.fieldnames = header
    sessions: dict[tuple[date, str], ImportedSession] = {}
    seen: dict[tuple[date, str, str], int] = {}
    rows = 0
    for row in reader:
        number = reader.line_num
        if None in row:
            raise InvalidInput(f"line {number}: more cells than header columns")
        cells = {name: (value or "").strip() for name, value in row.items()}
        if not any(cells.values()):
            continue
        rows += 1
        if rows > MAX_ROWS:
            raise InvalidInput(f"line {number}: at most {MAX_ROWS} rows in one file")
        held_on = _date(cells["date"], number, today)
        title = cells["title"]
        if not title or len(title) > MAX_TITLE:
            raise InvalidInput(
                f"line {number}: title: the session's name, 1 to {MAX_TITLE} characters"
            )
        topics = _topics(cells.get("topics", ""), number)
        member_id = cells["member_id"]
        if not member_id or len(member_id) > MAX_MEMBER_ID:
            raise InvalidInput(f"line {number}: member_id: 1 to {MAX_MEMBER_ID} characters")
        mark = MarkLine(_mark(member_id, cells["outcome"], cells.get("memo", ""), number), number)
        key = (held_on, title.casefold())
        found = sessions.get(key)
        if found is None:
            found = sessions[key] = ImportedSession(held_on, title, topics, number)
        elif topics and topics != found.topics:
            raise InvalidInput(
                f"line {number}: topics differ from line {found.line}'s for the same session "
                f"({held_on.isoformat()}, {found.title}); leave them empty or repeat them"
            )
        twice = seen.get((*key, member_id))
        if twice is not None:
            raise InvalidInput(
                f"line {number}: {member_id} is marked for this session on line {twice} already"
            )
        seen[(*key, member_id)] = number
        found.marks.append(mark)
    if not sessions:
        raise InvalidInput("the file has a header row and no attendance")
    return list(sessions.values())


def _date(value: str, line: int, today: date) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        held_on = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"line {line}: date: {value!r} is not a date as YYYY-MM-DD") from None
    if held_on > today:
        raise InvalidInput(f"line {line}: date: {value} is in the future")
    return held_on


def _topics(value: str, line: int) -> tuple[str, ...]:
    topics = tuple(topic.strip() for topic in value.split(";") if topic.strip())
    if len(topics) > MAX_TOPICS:
        raise InvalidInput(f"line {line}: topics: at most {MAX_TOPICS}")
    if any(len(topic) > MAX_TOPIC for topic in topics):
        raise InvalidInput(f"line {line}: topics: each at most {MAX_TOPIC} characters")
    return topics


def _mark(member_id: str, outcome: str, memo: str, line: int) -> Mark:
    lowered = outcome.lower()
    if lowered == "attended":
        if memo:
            raise InvalidInput(f"line {line}: memo: only an excused absence names a memo")
        return Mark(member_id, "attended")
    if lowered == "excused":
        if not memo:
            raise InvalidInput(
                f"line {line}: memo: an excused absence needs the reference of the memo the "
                "committee approved (830 §IV.E.3.f)"
            )
        if len(memo) > MAX_MEMO:
            raise InvalidInput(f"line {line}: memo: at most {MAX_MEMO} characters")
        return Mark(member_id, "excused", memo)
    raise InvalidInput(f"line {line}: outcome: {outcome!r} is not attended or excused")
