"""The configured agencies, looked up by slug."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from shared.policy.errors import UnknownAgency
from shared.policy.model import AgencyConfig, Policy


class AgencyRegistry:
    """Every agency loaded at start-up; immutable once built."""

    __slots__ = ("_agencies",)

    def __init__(self, agencies: Mapping[str, AgencyConfig]) -> None:
        self._agencies = MappingProxyType(dict(agencies))

    def get(self, slug: str) -> AgencyConfig:
        """The agency with this slug; `UnknownAgency` when there is none."""
        agency = self._agencies.get(slug)
        if agency is None:
            raise UnknownAgency(slug, self.slugs)
        return agency

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(sorted(self._agencies))

    @property
    def policies(self) -> Mapping[str, Policy]:
        """The policies in use, by id."""
        return {agency.policy.id: agency.policy for agency in self._agencies.values()}

    def __contains__(self, slug: object) -> bool:
        return slug in self._agencies

    def __iter__(self) -> Iterator[AgencyConfig]:
        return iter(self._agencies[slug] for slug in self.slugs)

    def __len__(self) -> int:
        return len(self._agencies)
