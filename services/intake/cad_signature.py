"""Checking a CAD webhook's `X-PST-Signature` (CONTRACT §7): pure, no I/O.

The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` keyed by the agency's
CAD secret. A signature is accepted when it matches any of the agency's currently valid secrets
(two during a rotation's grace period) and `t` lies within 300 s of now, either way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

TOLERANCE_S = 300


class SignatureRejected(Exception):
    """Why a webhook's signature was refused, in words safe to return to the caller."""


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


def parse_signature_header(header: str | None) -> SignatureHeader:
    if not header:
        raise SignatureRejected("missing X-PST-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            # ASCII digits only: str.isdigit() is also true of "²", which int() refuses (a 500)
            if not (value.isascii() and value.isdigit()) or len(value) > 12:
                raise SignatureRejected("X-PST-Signature: t must be unix seconds")
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureRejected("X-PST-Signature must be t=<unix seconds>,v1=<hex HMAC-SHA256>")
    return SignatureHeader(timestamp, tuple(signatures))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature of `body` at `timestamp` (what a CAD system computes)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    header: str | None, body: bytes, secrets: Iterable[str], *, now: datetime
) -> None:
    """Return if the body is signed by one of `secrets` within the window; raise otherwise."""
    parsed = parse_signature_header(header)
    age = now.timestamp() - parsed.timestamp
    if abs(age) > TOLERANCE_S:
        raise SignatureRejected(
            f"X-PST-Signature timestamp is {abs(age):.0f} s "
            f"{'old' if age > 0 else 'in the future'}; at most {TOLERANCE_S} s is accepted"
        )
    matched = False
    for secret in secrets:
        expected = sign(secret, parsed.timestamp, body)
        for candidate in parsed.signatures:
            # compare every pair, so the time taken does not reveal which secret matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureRejected("X-PST-Signature does not match the agency's CAD secret")
