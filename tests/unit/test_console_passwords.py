"""Console passwords: Argon2id hashes and first passwords strong enough to read aloud."""

from __future__ import annotations

import re

from argon2 import PasswordHasher, Type, extract_parameters

from services.console.accounts.passwords import (
    CHEAP_FOR_TESTS,
    NEW_PASSWORD_BITS,
    STANDARD_HASHER,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_password,
    password_hasher,
    password_matches,
)

CHEAP = password_hasher(CHEAP_FOR_TESTS)


def test_a_hash_matches_its_password_only() -> None:
    stored = hash_password("k7dm-xq3p-h9wa-ts4e-bn2r", CHEAP)
    assert stored.startswith("$argon2id$")
    assert password_matches(stored, "k7dm-xq3p-h9wa-ts4e-bn2r", CHEAP)
    assert not password_matches(stored, "k7dm-xq3p-h9wa-ts4e-bn2R", CHEAP)
    assert not password_matches(stored, "", CHEAP)


def test_a_broken_hash_matches_nothing_and_needs_rehashing() -> None:
    assert not password_matches("not a hash", "anything", CHEAP)
    assert needs_rehash("not a hash", CHEAP)


def test_the_standard_parameters_are_argon2id_at_owasp_strength() -> None:
    parameters = extract_parameters(hash_password("x", STANDARD_HASHER))
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= 19_456
    assert parameters.time_cost >= 2


def test_a_hash_with_other_parameters_needs_rehashing() -> None:
    cheap = hash_password("x", CHEAP)
    assert not needs_rehash(cheap, CHEAP)
    assert needs_rehash(cheap, STANDARD_HASHER)
    assert password_matches(cheap, "x", STANDARD_HASHER)  # parameters come from the hash


def test_the_dummy_hash_has_the_hashers_parameters_and_matches_nothing() -> None:
    dummy = dummy_hash(CHEAP)
    assert dummy == dummy_hash(password_hasher(CHEAP_FOR_TESTS))
    assert not needs_rehash(dummy, CHEAP)
    assert not password_matches(dummy, "", CHEAP)
    other = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1)
    assert dummy_hash(other) != dummy


def test_first_passwords_are_readable_groups_of_at_least_80_bits() -> None:
    passwords = {new_password() for _ in range(200)}
    assert len(passwords) == 200
    pattern = re.compile(r"[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){4}")
    assert all(pattern.fullmatch(p) for p in passwords)
    assert NEW_PASSWORD_BITS >= 80
