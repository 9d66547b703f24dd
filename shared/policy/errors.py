"""What can go wrong when loading policy data or looking up an agency."""

from __future__ import annotations


class PolicyDataError(ValueError):
    """A policy, agency or area file is missing, malformed or inconsistent; the message names it."""


class UnknownAgency(LookupError):
    """No agency with this slug is configured."""

    def __init__(self, slug: str, known: tuple[str, ...]) -> None:
        self.slug = slug
        self.known = known
        super().__init__(f"agency: unknown agency {slug!r} (known: {', '.join(known) or 'none'})")

    def __str__(self) -> str:
        return str(self.args[0])
