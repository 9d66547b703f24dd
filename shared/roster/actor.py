"""Who records a change to the roster: kept beside every step (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Via = Literal["console", "api", "command", "sms"]


@dataclass(frozen=True, slots=True)
class Actor:
    role: str
    """The account's or token's role (`coordinator`, `manager`, ...); `operator` for commands
    run on the server, `specialist` for a specialist's own SMS."""
    name: str
    via: Via

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role}, {self.via})"
