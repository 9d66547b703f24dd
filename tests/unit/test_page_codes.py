"""Page codes: four digits, unique among a number's open pages, never an easy mistake."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.page_codes import PAGE_CODES, choose_page_code, is_ambiguous


def test_codes_run_from_1000_to_9999() -> None:
    assert all(len(code) == 4 and code.isdigit() for code in PAGE_CODES)
    assert min(PAGE_CODES) >= "1000"
    assert max(PAGE_CODES) <= "9999"
    assert "0000" not in PAGE_CODES
    assert "0482" not in PAGE_CODES
    assert list(PAGE_CODES) == sorted(PAGE_CODES)


@pytest.mark.parametrize("code", ["1111", "9999", "1234", "6789", "9876", "3210", "4321"])
def test_ambiguous_codes_are_never_given(code: str) -> None:
    assert is_ambiguous(code)
    assert code not in PAGE_CODES


@pytest.mark.parametrize("code", ["4821", "1000", "1357", "2024", "1233"])
def test_ordinary_codes_are_given(code: str) -> None:
    assert not is_ambiguous(code)
    assert code in PAGE_CODES


def test_a_code_open_for_the_number_is_never_chosen_again() -> None:
    rng = random.Random(7)
    open_codes: set[str] = set()
    for _ in range(500):
        code = choose_page_code(open_codes, rng)
        assert code not in open_codes
        open_codes.add(code)


def test_the_last_free_code_is_found() -> None:
    free = "4821"
    open_codes = set(PAGE_CODES) - {free}
    assert choose_page_code(open_codes, random.Random(1)) == free


def test_when_every_code_is_open_it_says_so() -> None:
    with pytest.raises(ValueError, match="every page code"):
        choose_page_code(PAGE_CODES, random.Random(1))


def test_the_same_seed_gives_the_same_code() -> None:
    assert choose_page_code(set(), random.Random(42)) == choose_page_code(set(), random.Random(42))


@given(st.sets(st.sampled_from(PAGE_CODES), max_size=300), st.randoms(use_true_random=False))
def test_any_choice_is_a_valid_free_code(open_codes: set[str], rng: random.Random) -> None:
    code = choose_page_code(open_codes, rng)
    assert code in PAGE_CODES
    assert code not in open_codes
