"""Page codes: the 4 digits a reply may carry (`YES 4821`) to say which open page it answers.

A code is unique among the pages open for one phone number, not globally. Codes run from 1000
to 9999, leaving out the ones easy to type by mistake or to mistake for another: one digit
repeated (1111) and straight runs up or down (1234, 6789, 9876, 3210).
"""

from __future__ import annotations

import random
from collections.abc import Collection

_STRAIGHTS_UP = "0123456789"
_STRAIGHTS_DOWN = _STRAIGHTS_UP[::-1]


def is_ambiguous(code: str) -> bool:
    """One digit repeated, or a straight run up or down."""
    return len(set(code)) == 1 or code in _STRAIGHTS_UP or code in _STRAIGHTS_DOWN


PAGE_CODES: tuple[str, ...] = tuple(
    code for code in (str(number) for number in range(1000, 10000)) if not is_ambiguous(code)
)
"""Every code a page may get, in ascending order."""


def choose_page_code(open_codes: Collection[str], rng: random.Random) -> str:
    """A code, drawn uniformly by `rng`, that none of the number's open pages holds.

    `rng` is the random source: `random.SystemRandom()` in service, a seeded `random.Random`
    in tests. Raises ValueError when every code is open for the number.

    While at most half the codes are open (always, in practice) a code is drawn from all of
    them until a free one comes up, which is as uniform as drawing from the free ones and
    needs no list of ~9,000 codes per page; past that, the free ones are listed.
    """
    taken = set(open_codes)
    if len(taken) <= len(PAGE_CODES) // 2:
        while True:
            code = rng.choice(PAGE_CODES)
            if code not in taken:
                return code
    free = [code for code in PAGE_CODES if code not in taken]
    if not free:
        raise ValueError("every page code is open for this number")
    return rng.choice(free)
