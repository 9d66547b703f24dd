"""What statistics are made of: one fact per incident, one per logged contact. Neither carries a
name, a member id, an incident id or a day; only the agency's local month."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import ContactKind, Referral


@dataclass(frozen=True, slots=True)
class ActivationFact:
    month: str
    """The local month of the first report, "YYYY-MM"."""
    activate: bool
    criteria: tuple[str, ...]
    specialists: int
    accepted: int
    to_first_acceptance_s: float | None
    """From the first report to the first acceptance; None when nobody accepted."""
    to_last_acceptance_s: float | None
    """From the first report to the acceptance that fully staffed it; None when it never was."""
    pages: int
    calls: int
    declines: int
    timeouts: int

    @property
    def staffed(self) -> bool:
        return self.activate and self.accepted >= self.specialists


@dataclass(frozen=True, slots=True)
class ContactFact:
    month: str
    source: str
    """"incident" or "direct" (a member called the specialist, FOP #4 §A.1)."""
    people: int
    kind: ContactKind
    referral: Referral
    hours: float
