"""Reading past attendance from a spreadsheet's CSV (`shared.roster.training_files`): rows of
one date and title are one session; every fault refuses the whole file and names its line."""

from __future__ import annotations

from datetime import date

import pytest

from shared.errors import InvalidInput
from shared.roster.training_files import ImportedSession, read_training_file
from shared.roster.training_records import Mark

TODAY = date(2026, 12, 7)
HEADER = "date,title,topics,member_id,outcome,memo\n"
GOOD = (
    HEADER + "2026-07-14,Q3 training,Listening; Referral ,KC0001,attended,\n"
    "2026-07-14,Q3 training,,KC0002,Excused,memo 2026-31\n"
    "2026-10-02,Q4 training,Debriefing,KC0001,attended,\n"
    "2026-07-14,q3 TRAINING,Listening;Referral,KC0003,attended,\n"
)


def read(text: str | bytes) -> list[ImportedSession]:
    return read_training_file(text.encode() if isinstance(text, str) else text, today=TODAY)


def refused(text: str | bytes) -> str:
    with pytest.raises(InvalidInput) as error:
        read(text)
    return error.value.detail


def test_rows_of_one_date_and_title_are_one_session() -> None:
    sessions = read(GOOD)
    assert [(s.held_on, s.title, s.topics, s.line) for s in sessions] == [
        (date(2026, 7, 14), "Q3 training", ("Listening", "Referral"), 2),
        (date(2026, 10, 2), "Q4 training", ("Debriefing",), 4),
    ]
    assert [(m.mark, m.line) for m in sessions[0].marks] == [
        (Mark("KC0001", "attended"), 2),
        (Mark("KC0002", "excused", "memo 2026-31"), 3),
        (Mark("KC0003", "attended"), 5),
    ]


def test_a_spreadsheets_habits_are_read() -> None:
    crlf = ("\ufeff" + GOOD.replace("\n", "\r\n")).encode()
    assert read(crlf) == read(GOOD)
    shuffled = "MEMO, Outcome ,member_id,date,title\nm1,excused,KC0001,2026-01-05,Winter\n,,,,\n"
    (only,) = read(shuffled)
    assert only.topics == () and only.marks[0].mark == Mark("KC0001", "excused", "m1")
    quoted = HEADER + '2026-01-05,"Winter, part 1","A;B",KC0001,attended,\n'
    assert read(quoted)[0].title == "Winter, part 1"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"", "the file is empty"),
        (HEADER, "the file has a header row and no attendance"),
        ("date,title,member_id,outcome,notes\n", "line 1: unknown columns notes"),
        ("date,title,topics,outcome\n", "line 1: missing columns member_id"),
        ("date,title,member_id,outcome,date\n", "line 1: a column is named twice"),
        (HEADER + "2026-01-05,W,,KC1,attended,,extra\n", "line 2: more cells than header"),
        (HEADER + "05/01/2026,W,,KC1,attended,\n", "line 2: date: '05/01/2026' is not a date"),
        (HEADER + "20260105,W,,KC1,attended,\n", "line 2: date: '20260105' is not a date"),
        (HEADER + "2026-W02-1,W,,KC1,attended,\n", "line 2: date: '2026-W02-1' is not a date"),
        (HEADER + "2026-02-30,W,,KC1,attended,\n", "line 2: date: '2026-02-30' is not a date"),
        (HEADER + "2026-12-08,W,,KC1,attended,\n", "line 2: date: 2026-12-08 is in the future"),
        (HEADER + "2026-01-05,,,KC1,attended,\n", "line 2: title: the session's name"),
        (HEADER + f"2026-01-05,{'t' * 121},,KC1,attended,\n", "line 2: title"),
        (HEADER + f"2026-01-05,W,{';'.join('abcdefghijklm')},KC1,attended,\n", "at most 12"),
        (HEADER + f"2026-01-05,W,{'x' * 81},KC1,attended,\n", "each at most 80 characters"),
        (HEADER + "2026-01-05,W,,,attended,\n", "line 2: member_id: 1 to 64 characters"),
        (HEADER + "2026-01-05,W,,KC1,present,\n", "line 2: outcome: 'present' is not attended"),
        (HEADER + "2026-01-05,W,,KC1,,\n", "line 2: outcome: '' is not attended or excused"),
        (HEADER + "2026-01-05,W,,KC1,excused,\n", "line 2: memo: an excused absence needs"),
        (HEADER + "2026-01-05,W,,KC1,attended,m1\n", "line 2: memo: only an excused absence"),
        (HEADER + f"2026-01-05,W,,KC1,excused,{'m' * 121}\n", "line 2: memo: at most 120"),
        (
            HEADER + "2026-01-05,W,,KC1,attended,\n2026-01-05,w,,KC1,excused,m\n",
            "line 3: KC1 is marked for this session on line 2 already",
        ),
        (
            HEADER + "2026-01-05,W,A,KC1,attended,\n2026-01-05,W,B,KC2,attended,\n",
            "line 3: topics differ from line 2's for the same session (2026-01-05, W)",
        ),
        (b"date,title,member_id,outcome\n\xff,W,KC1,attended\n", "file: not UTF-8 text"),
        (HEADER + "2026-01-05,W\x00,,KC1,attended,\n", "contains the NUL character"),
    ],
)
def test_every_fault_names_its_line_and_refuses_the_file(text: str | bytes, why: str) -> None:
    assert why in refused(text)


def test_a_line_is_counted_in_the_file_as_a_person_sees_it() -> None:
    text = HEADER + "\n2026-01-05,W,,KC1,attended,\n\n2026-01-05,W,,KC2,present,\n"
    assert refused(text).startswith("line 5: outcome")
