"""Console TOTP codes: RFC 6238's algorithm, the ±1 step window, and one use per code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.console.accounts import totp

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
"""RFC 6238's SHA-1 test key, "12345678901234567890", in base32."""
NOW = datetime(2026, 11, 21, 5, 0, 10, tzinfo=UTC)
STEP = totp.step_at(NOW)


def at_step(step: int) -> str:
    return totp.code_for_step(RFC_SECRET, step)


def test_codes_are_rfc_6238_sha1_six_digits_thirty_seconds() -> None:
    # RFC 6238 appendix B gives 8 digits; an authenticator app shows the last six
    assert totp.code_at(RFC_SECRET, datetime.fromtimestamp(59, UTC)) == "287082"
    assert totp.code_at(RFC_SECRET, datetime.fromtimestamp(1111111109, UTC)) == "081804"
    assert totp.code_at(RFC_SECRET, datetime.fromtimestamp(1234567890, UTC)) == "005924"


def test_the_current_step_and_one_either_side_are_accepted() -> None:
    assert totp.verified_step(RFC_SECRET, at_step(STEP), NOW, 0) == STEP
    assert totp.verified_step(RFC_SECRET, at_step(STEP - 1), NOW, 0) == STEP - 1
    assert totp.verified_step(RFC_SECRET, at_step(STEP + 1), NOW, 0) == STEP + 1


def test_two_steps_away_is_refused() -> None:
    assert totp.verified_step(RFC_SECRET, at_step(STEP - 2), NOW, 0) is None
    assert totp.verified_step(RFC_SECRET, at_step(STEP + 2), NOW, 0) is None


def test_a_step_boundary_moves_the_window() -> None:
    code = at_step(STEP)
    last_second_of_next = NOW.replace(second=0) + timedelta(seconds=59)
    assert totp.verified_step(RFC_SECRET, code, last_second_of_next, 0) == STEP
    first_second_after = last_second_of_next + timedelta(seconds=1)
    assert totp.verified_step(RFC_SECRET, code, first_second_after, 0) is None


def test_a_code_is_accepted_once() -> None:
    code = at_step(STEP)
    used = totp.verified_step(RFC_SECRET, code, NOW, 0)
    assert used == STEP
    assert totp.verified_step(RFC_SECRET, code, NOW, used) is None
    assert totp.verified_step(RFC_SECRET, code, NOW + timedelta(seconds=25), used) is None


def test_an_older_code_is_refused_once_a_newer_one_was_used() -> None:
    assert totp.verified_step(RFC_SECRET, at_step(STEP - 1), NOW, STEP) is None
    assert totp.verified_step(RFC_SECRET, at_step(STEP + 1), NOW, STEP) == STEP + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "-12345"])
def test_anything_but_six_digits_is_refused(typed: str) -> None:
    assert totp.verified_step(RFC_SECRET, typed, NOW, 0) is None


def test_spaces_in_a_code_are_ignored() -> None:
    code = at_step(STEP)
    assert totp.verified_step(RFC_SECRET, f" {code[:3]} {code[3:]} ", NOW, 0) == STEP


def test_a_time_without_a_zone_is_an_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        totp.verified_step(RFC_SECRET, "123456", NOW.replace(tzinfo=None), 0)


def test_new_secrets_are_160_bit_base32_and_differ() -> None:
    secrets = {totp.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for s in secrets)


def test_the_enrolment_uri_names_the_agency_as_issuer() -> None:
    assert totp.enrolment_uri(RFC_SECRET, "pat.roe+pst@kcpd.org", "kcmo") == (
        f"otpauth://totp/PST%20kcmo:pat.roe%2Bpst@kcpd.org?secret={RFC_SECRET}&issuer=PST%20kcmo"
    )
