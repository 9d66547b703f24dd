"""Passwords: Argon2id hashes (argon2-cffi), and strong first passwords that read well aloud.

Hashing and checking cost tens of milliseconds of CPU on purpose: callers on an event loop run
them in a thread (`asyncio.to_thread`). Tests pass `password_hasher(CHEAP_FOR_TESTS)`.
"""

from __future__ import annotations

import functools
import math
import secrets

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

STANDARD_PARAMETERS = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19_456,
    parallelism=1,
)
"""OWASP's first Argon2id recommendation (19 MiB, 2 passes, 1 lane)."""

CHEAP_FOR_TESTS = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1
)
"""For tests only: microseconds instead of tens of milliseconds."""

READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
"""Lower-case letters and digits without the look-alikes (i, l, o, 0, 1)."""
PASSWORD_GROUPS = 5
PASSWORD_GROUP_LENGTH = 4
NEW_PASSWORD_BITS = PASSWORD_GROUPS * PASSWORD_GROUP_LENGTH * math.log2(len(READABLE_CHARACTERS))
"""The entropy of `new_password()`: about 99 bits."""


def password_hasher(parameters: Parameters = STANDARD_PARAMETERS) -> PasswordHasher:
    return PasswordHasher.from_parameters(parameters)


STANDARD_HASHER = password_hasher()


def hash_password(password: str, hasher: PasswordHasher = STANDARD_HASHER) -> str:
    return hasher.hash(password)


def password_matches(stored_hash: str, password: str, hasher: PasswordHasher) -> bool:
    """Whether `password` is the one `stored_hash` was made from (False for a broken hash)."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher) -> bool:
    """Whether the hash was made with other parameters than `hasher`'s (re-hash on sign-in)."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of no one's password with `hasher`'s parameters: checking a password against it
    costs what checking a real account's costs, so an unknown email takes as long.

    Made on first use and kept: a composition root may call it once at start-up so that the
    first unknown email does not cost two hashes."""
    return _dummy_hash_for(
        hasher.type,
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
    )


@functools.cache
def _dummy_hash_for(
    kind: Type, time_cost: int, memory_cost: int, parallelism: int, hash_len: int, salt_len: int
) -> str:
    hasher = PasswordHasher(time_cost, memory_cost, parallelism, hash_len, salt_len, type=kind)
    return hasher.hash(secrets.token_urlsafe(32))


def new_password() -> str:
    """Twenty characters in five groups, like `k7dm-xq3p-h9wa-ts4e-bn2r` (99 bits)."""
    groups = (
        "".join(secrets.choice(READABLE_CHARACTERS) for _ in range(PASSWORD_GROUP_LENGTH))
        for _ in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)
