"""Every service answers /healthz, /readyz and /metrics, and readiness tells the truth."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from pst.localstack.ports import free_port
from services.dispatcher.app import create_app as dispatcher_app
from services.intake.app import create_app as intake_app
from services.notifier.app import create_app as notifier_app
from shared.settings import Settings

SERVICES: dict[str, Callable[[Settings], FastAPI]] = {
    "intake": intake_app,
    "dispatcher": dispatcher_app,
    "notifier": notifier_app,
}


async def _get(app: FastAPI, *paths: str) -> list[httpx.Response]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get(path) for path in paths]


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_probes_answer(service: str, settings: Settings) -> None:
    health, ready, metrics = await _get(
        SERVICES[service](settings), "/healthz", "/readyz", "/metrics"
    )
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "service": service}
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "ok"
    assert ready.json()["broker"] == "ok"
    assert metrics.status_code == 200
    assert (
        f'pst_http_requests_total{{method="GET",route="/healthz",service="{service}",status="200"}}'
        in metrics.text
    )


async def test_readiness_fails_when_the_broker_is_unreachable(settings: Settings) -> None:
    nowhere = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    (ready,) = await _get(intake_app(nowhere), "/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "ok"
    assert ready.json()["broker"].startswith("unreachable")


async def test_readiness_fails_when_the_database_is_unreachable(settings: Settings) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    (ready,) = await _get(intake_app(settings.model_copy(update={"database_url": url})), "/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"].startswith("unreachable")
    assert ready.json()["broker"] == "ok"
