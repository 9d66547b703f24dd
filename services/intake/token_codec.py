"""Bearer tokens: how they look and how they are stored (only a hash). Pure, no I/O."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pst_"


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe, recognisable by its prefix in a leak scan."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 is enough for 256-bit random tokens (no dictionary to guess from)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_cad_secret() -> str:
    return "cad_" + secrets.token_urlsafe(32)
