"""The CAD webhook signature check, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.intake.cad_signature import (
    SignatureRejected,
    parse_signature_header,
    sign,
    signature_header,
    verify_signature,
)

NOW = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def test_a_known_vector() -> None:
    # HMAC-SHA256("secret", "1700000000.{}"), computed independently with openssl:
    # printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
    assert sign("secret", 1700000000, b"{}") == (
        "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
    )


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40))
def test_what_is_signed_verifies(body: bytes, secret: str) -> None:
    verify_signature(signature_header(secret, T, body), body, [secret], now=NOW)


@given(body=st.binary(min_size=1, max_size=512))
def test_any_change_to_the_body_is_refused(body: bytes) -> None:
    header = signature_header("s3cret", T, body)
    with pytest.raises(SignatureRejected):
        verify_signature(header, body + b" ", ["s3cret"], now=NOW)


def test_any_valid_secret_of_several_verifies() -> None:
    header = signature_header("old", T, b"x")
    verify_signature(header, b"x", ["new", "old"], now=NOW)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signature(header, b"x", ["new"], now=NOW)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)]
)
def test_the_window_is_300_seconds_either_way(offset: int, accepted: bool) -> None:
    header = signature_header("s", T + offset, b"x")
    if accepted:
        verify_signature(header, b"x", ["s"], now=NOW)
    else:
        with pytest.raises(SignatureRejected, match="300 s"):
            verify_signature(header, b"x", ["s"], now=NOW)


@pytest.mark.parametrize(
    "header", [None, "", "v1=ab", "t=12", "t=abc,v1=ab", "t=1,v1=", "garbage", "t=-5,v1=aa"]
)
def test_malformed_headers_are_refused_in_words(header: str | None) -> None:
    with pytest.raises(SignatureRejected, match="X-PST-Signature"):
        parse_signature_header(header)


def test_several_v1_values_are_tried() -> None:
    good = sign("s", T, b"x")
    verify_signature(f"t={T},v1=deadbeef,v1={good}", b"x", ["s"], now=NOW)
