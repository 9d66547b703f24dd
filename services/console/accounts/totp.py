"""Time-based one-time codes as authenticator apps make them (RFC 6238: SHA-1, 6 digits, 30 s).

Pure: the time is passed in. A code is good for its own 30-second step and one step either side
(a phone's clock a little off, a code typed as it changed), and only once: `verified_step`
refuses any step at or before the last one the account used.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from urllib.parse import quote

import pyotp

STEP_SECONDS = 30
DIGITS = 6
WINDOW_STEPS = 1
"""Steps accepted either side of the current one."""


def new_secret() -> str:
    """A new base32 secret of 160 bits (32 characters), as RFC 4226 recommends."""
    secret: str = pyotp.random_base32()
    return secret


def enrolment_uri(secret: str, email: str, agency: str) -> str:
    """The `otpauth://` URI an authenticator app reads (typed in, or shown as a QR code)."""
    issuer = quote(f"PST {agency}", safe="")
    account = quote(email, safe="@")
    return f"otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}"


def step_at(now: datetime) -> int:
    """The TOTP time step `now` falls in."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int) -> str:
    code: str = _totp(secret).generate_otp(step)
    return code


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now`."""
    return code_for_step(secret, step_at(now))


def verified_step(secret: str, code: str, now: datetime, last_used_step: int) -> int | None:
    """The step `code` belongs to, if it is within the window and newer than `last_used_step`.

    Spaces are ignored ("123 456", as some apps show it); anything but six digits is refused.
    """
    typed = code.replace(" ", "")
    current = step_at(now)
    if len(typed) != DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    totp = _totp(secret)
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if step <= last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed.encode()):
            return step
    return None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
