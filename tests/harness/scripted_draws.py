"""A random source whose draws the test writes down, to make page codes collide on purpose."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any


class ScriptedDraws(random.Random):
    """`choice` returns the scripted values in order (each must be one of the choices); it
    fails when the script runs out instead of looping for ever."""

    def __init__(self, draws: Iterable[Any]) -> None:
        super().__init__(0)
        self._draws = iter(draws)
        self.drawn = 0

    def choice(self, seq: Any) -> Any:
        value = next(self._draws, None)
        if value is None:
            raise AssertionError("more draws than the script holds")
        assert value in seq, f"{value!r} cannot be drawn"
        self.drawn += 1
        return value
