"""Typed settings read from the environment (`PST_*`), built once by each entrypoint.

Nothing reads the environment at import time: `Settings()` is called in a composition root
(`pst` commands, service bootstraps) and passed down.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, HttpUrl, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PST_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL as postgresql+asyncpg://...; unset: the local stack's embedded one",
    )
    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers; unset: the local stack's broker"
    )
    kafka_topic_prefix: str = Field(
        default="pst.", description="prefix of every topic name (tests give each test its own)"
    )
    http_port: int = Field(default=8000, ge=1, le=65535)
    public_url: HttpUrl = Field(default=HttpUrl("http://127.0.0.1:8000"))
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base: HttpUrl = Field(default=HttpUrl("https://api.twilio.com"))
    twilio_sends_per_second: float = Field(
        default=1.0,
        gt=0,
        description=(
            "messages (and, separately, calls) a second from the sending number: 1 for a US "
            "long code; raise it for a short code or a Messaging Service pool"
        ),
    )
    sms_ack_timeout_s: float = Field(default=120, gt=0)
    call_ack_timeout_s: float = Field(default=180, gt=0)
    state_dir: Path = Field(
        default=Path(".state"), description="where the local stack keeps its data between runs"
    )
    agency_data: Path | None = Field(
        default=None,
        description=(
            "a folder of agency data (`agencies/`, `policies/`, `areas/`, as the packaged "
            "`shared/policy/data`) to use instead of the packaged agencies"
        ),
    )
    log_level: str = "INFO"
    token_rate_per_s: float = Field(
        default=20, gt=0, description="requests a second one bearer token may make (burst 3x)"
    )
    cad_rate_per_s: float = Field(
        default=2000, gt=0, description="webhooks a second one agency's CAD may send (burst 2x)"
    )
    web_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        le=64,
        description="web processes `pst up` runs on the API's port (default: one per core)",
    )

    @field_validator("database_url")
    @classmethod
    def _asyncpg_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("postgresql+asyncpg://"):
            raise ValueError("PST_DATABASE_URL must start with postgresql+asyncpg://")
        return value

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    def require_database_url(self) -> str:
        if self.database_url is None:
            raise RuntimeError(
                "PST_DATABASE_URL is not set and no local stack is running "
                "(start one with `pst up`)"
            )
        return self.database_url

    def require_kafka_bootstrap(self) -> str:
        if self.kafka_bootstrap is None:
            raise RuntimeError(
                "PST_KAFKA_BOOTSTRAP is not set and no local stack is running "
                "(start one with `pst up`)"
            )
        return self.kafka_bootstrap
