"""schemathesis over intake's whole OpenAPI document, against a real server on loopback with a
real database and broker: whatever it sends, the answer is never a 5xx. Bounded in examples."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis.checks import not_a_server_error

from pst.localstack.ports import free_port, wait_for_port
from services.intake.app import create_app
from services.intake.credentials import issue_token, rotate_cad_secret
from shared.db.engine import build_engine, build_session_factory
from shared.db.unit_of_work import unit_of_work
from shared.kafka.clients import ensure_topics
from shared.kafka.topics import Topics
from shared.policy import Role
from shared.settings import Settings
from tests.harness.servers import SessionServers

EXAMPLES_PER_OPERATION = 40


@dataclass
class LiveIntake:
    url: str
    token: str


async def _credentials(url: str) -> str:
    engine = build_engine(url, pool_size=1)
    try:
        async with unit_of_work(build_session_factory(engine)) as session:
            token = await issue_token(
                session,
                agency="kcmo",
                role=Role.COORDINATOR,
                name="fuzzer",
                phone=None,
                now=datetime.now(UTC),
            )
            await rotate_cad_secret(session, agency="kcmo", now=datetime.now(UTC))
            await session.commit()
    finally:
        await engine.dispose()
    return token


@pytest.fixture
def live_intake(servers: SessionServers) -> Iterator[LiveIntake]:
    database = asyncio.run(servers.fresh_database())
    topics = Topics(prefix=f"f{uuid.uuid4().hex[:10]}.")
    asyncio.run(ensure_topics(servers.kafka.bootstrap, topics.specs()))
    settings = Settings(
        database_url=servers.postgres.url(database),
        kafka_bootstrap=servers.kafka.bootstrap,
        kafka_topic_prefix=topics.prefix,
        token_rate_per_s=10_000,
    )
    token = asyncio.run(_credentials(servers.postgres.url(database)))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for_port(port, 30)
    while not server.started:
        time.sleep(0.05)
    try:
        yield LiveIntake(f"http://127.0.0.1:{port}", token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        asyncio.run(servers.drop_database(database))


def test_no_input_makes_intake_answer_5xx(live_intake: LiveIntake) -> None:
    schema = schemathesis.openapi.from_url(f"{live_intake.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8, "every route is in the document"
    calls: list[str] = []
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            database=None,
        )
        def never_5xx(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            calls.append(case.method)
            case.call_and_validate(
                base_url=live_intake.url,
                headers={"Authorization": f"Bearer {live_intake.token}"},
                checks=[not_a_server_error],
            )

        never_5xx()
    assert len(calls) >= len(operations) * 10, f"only {len(calls)} requests were generated"
