"""The per-token rate limit and the roster file reader, as pure functions."""

from __future__ import annotations

import pytest

from services.intake.request_limits import RateLimiter
from services.intake.roster_files import read_roster_file
from shared.errors import InvalidInput, RateLimited

HEADER = "member_id,name,phone,status,on_duty,on_call,training_current,under_investigation"


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    limiter = RateLimiter(per_second=2, burst=4)
    for _ in range(4):
        limiter.check("t", now=100.0)
    with pytest.raises(RateLimited) as refused:
        limiter.check("t", now=100.0)
    assert refused.value.retry_after_s == 1
    limiter.check("t", now=100.5)
    with pytest.raises(RateLimited):
        limiter.check("t", now=100.5)
    limiter.check("other", now=100.5)


def test_csv_rows_become_entries_with_the_agency_filled_in() -> None:
    content = f"{HEADER},languages\nK1,Alex,+19135550101,active,yes,no,true,0,en|es\n".encode()
    (entry,) = read_roster_file(content, agency="kck")
    assert entry.agency == "kck"
    assert (entry.on_duty, entry.on_call, entry.training_current) == (True, False, True)
    assert entry.languages == ["en", "es"]


def test_a_csv_without_training_current_is_read() -> None:
    """`training_current` is derived from the training records (issue 14): a file need not
    have the column, and a value sent is read but not used."""
    header = HEADER.replace(",training_current", "")
    (entry,) = read_roster_file(
        f"{header}\nK1,Alex,+19135550101,active,no,no,no\n".encode(), agency="kck"
    )
    assert entry.training_current is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("K1,Alex,+19135550101,active,perhaps,no,yes,no", "line 2: on_duty: 'perhaps'"),
        ("K1,Alex,9135550101,active,no,no,yes,no", "line 2: phone"),
        # a status's name is checked here; whether the agency's lifecycle has it, on writing
        ("K1,Alex,+19135550101,on leave,no,no,yes,no", "line 2: status"),
        ("K1,Alex,+19135550101,active,no,no,yes,no,extra", "line 2: more cells"),
    ],
)
def test_a_bad_csv_row_is_named(row: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_roster_file(f"{HEADER}\n{row}\n".encode(), agency="kck")
    assert str(refused.value).startswith(message)


def test_json_rosters_are_read_as_the_api_reads_them() -> None:
    with pytest.raises(InvalidInput, match=r"0\.agency"):
        read_roster_file(
            b'[{"member_id":"K1","name":"A","agency":"kcmo","phone":"+19135550101",'
            b'"status":"active","on_duty":false,"on_call":false,"training_current":true,'
            b'"under_investigation":false}]',
            agency="kck",
        )


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_roster_file(b"", agency="kck")
