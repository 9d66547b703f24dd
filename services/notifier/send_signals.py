"""The commit flags that wake the notifier's senders (`shared.db.commit_signals`)."""

from __future__ import annotations


def pages_queued(channel: str) -> str:
    """The commit flag that wakes the sender of `channel`: a queued SMS does not wake the call
    sender, nor the reverse."""
    return f"notifier_pages_queued:{channel}"
