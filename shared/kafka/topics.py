"""The one place that names the project's Kafka topics and their partition counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    purpose: str


@dataclass(frozen=True)
class Topics:
    """Topic names under a prefix (`PST_KAFKA_TOPIC_PREFIX`); tests give each test its own."""

    prefix: str = "pst."

    @property
    def incidents(self) -> str:
        """IncidentReported / IncidentUpdated from intake, keyed by incident id."""
        return f"{self.prefix}incidents"

    @property
    def page_commands(self) -> str:
        """Pages and calls the dispatcher asks the notifier to make, keyed by incident id."""
        return f"{self.prefix}page-commands"

    @property
    def page_outcomes(self) -> str:
        """What became of a page (delivered, failed, answered), keyed by incident id."""
        return f"{self.prefix}page-outcomes"

    @property
    def activity(self) -> str:
        """What happened, for read models (the console): decisions, assignment moves, closes,
        messages kept unsent; keyed by incident id."""
        return f"{self.prefix}activity"

    @property
    def dead_letter(self) -> str:
        """Events a consumer could not handle, kept for a person to look at."""
        return f"{self.prefix}dead-letter"

    def specs(self) -> list[TopicSpec]:
        return [
            TopicSpec(self.incidents, 6, "incident reports and their updates"),
            TopicSpec(self.page_commands, 6, "page and call commands for the notifier"),
            TopicSpec(self.page_outcomes, 6, "page outcomes for the dispatcher"),
            TopicSpec(self.activity, 6, "decisions and assignment moves for read models"),
            TopicSpec(self.dead_letter, 1, "events that could not be handled"),
        ]
