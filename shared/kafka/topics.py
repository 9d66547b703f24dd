"""The one place that names the project's Kafka topics, their partition counts and how they
are replicated."""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPLICATION_FACTOR = 3


@dataclass(frozen=True)
class Replication:
    """How new topics are replicated on a cluster of `brokers` brokers (`replication_for`)."""

    brokers: int
    factor: int
    min_insync_replicas: int

    def topic_configs(self) -> dict[str, str]:
        return {"min.insync.replicas": str(self.min_insync_replicas)}


def replication_for(brokers: int) -> Replication:
    """Replication factor min(3, brokers), and `min.insync.replicas` 2 once there are three
    replicas: with the producers' acks=all a write is on two brokers before it is
    acknowledged, and the loss of any one broker stops neither writes nor reads. With fewer
    replicas it is 1, or a two-broker cluster would stop taking writes whenever either broker
    is away."""
    if brokers < 1:
        raise ValueError(f"a Kafka cluster has at least one broker, not {brokers}")
    factor = min(MAX_REPLICATION_FACTOR, brokers)
    return Replication(brokers, factor, 2 if factor >= 3 else 1)


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
