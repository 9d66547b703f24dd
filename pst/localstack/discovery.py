"""How commands find the local stack that `pst up` is running, when no URLs are set."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from shared.settings import Settings

STACK_FILE = "stack.json"


@dataclass(frozen=True)
class RunningStack:
    pid: int
    database_url: str
    kafka_bootstrap: str
    http_url: str

    def write(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / STACK_FILE).write_text(json.dumps(self.__dict__, indent=2))

    @staticmethod
    def remove(state_dir: Path) -> None:
        (state_dir / STACK_FILE).unlink(missing_ok=True)


def running_stack(state_dir: Path) -> RunningStack | None:
    path = state_dir / STACK_FILE
    try:
        stack = RunningStack(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(stack.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return stack


def effective_settings() -> Settings:
    """Settings from the environment, completed with the running local stack's servers."""
    settings = Settings()
    if settings.database_url and settings.kafka_bootstrap:
        return settings
    stack = running_stack(settings.state_dir)
    if stack is None:
        return settings
    return settings.model_copy(
        update={
            "database_url": settings.database_url or stack.database_url,
            "kafka_bootstrap": settings.kafka_bootstrap or stack.kafka_bootstrap,
        }
    )
