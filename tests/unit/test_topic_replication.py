"""How topics are replicated for the cluster they are created on (`replication_for`)."""

from __future__ import annotations

import pytest

from shared.kafka.topics import replication_for


@pytest.mark.parametrize(
    ("brokers", "factor", "min_insync"),
    [(1, 1, 1), (2, 2, 1), (3, 3, 2), (4, 3, 2), (9, 3, 2)],
)
def test_three_replicas_two_in_sync_once_the_cluster_has_three_brokers(
    brokers: int, factor: int, min_insync: int
) -> None:
    replication = replication_for(brokers)
    assert (replication.factor, replication.min_insync_replicas) == (factor, min_insync)
    assert replication.topic_configs() == {"min.insync.replicas": str(min_insync)}


@pytest.mark.parametrize("brokers", range(1, 10))
def test_any_one_broker_can_be_lost_without_stopping_writes(brokers: int) -> None:
    """With acks=all a write needs min.insync.replicas replicas alive: one broker fewer than
    the replicas must still be enough (or, alone, the only one there is)."""
    replication = replication_for(brokers)
    assert replication.min_insync_replicas <= max(1, replication.factor - 1)
    assert replication.factor <= brokers


def test_no_cluster_without_brokers() -> None:
    with pytest.raises(ValueError, match="at least one broker"):
        replication_for(0)
