"""What grounds a rule: a policy's section and/or words. Its own module, outside the policy
package, so the roster's pure modules can name it without loading the policy registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Citing(Protocol):
    @property
    def cite(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Grounds:
    """What grounds a rule: a section of the agency's policy and/or a note in words."""

    section: str | None
    note: str | None

    def cite(self, policy: Citing) -> str:
        """E.g. `830 §III.F`, or the note when no section grounds the rule."""
        if self.section is not None:
            return f"{policy.cite} §{self.section}"
        return self.note or policy.name
