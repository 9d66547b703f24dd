"""`GET /v1/agencies/{agency}/statistics?quarter=` over HTTP with real tokens: a chief's answer
names nobody and carries no id and no day; who may not read it is told why."""

from __future__ import annotations

import json
import re

from tests.integration.intake.conftest import Intake, bearer
from tests.integration.reports.year import HARMED, generate_year, load_year

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


async def test_the_chief_reads_anonymous_statistics(intake: Intake) -> None:
    year = generate_year(seed=21, incidents=120)
    await load_year(intake.sessions, year)
    chief = await intake.token("kcmo", "chief", "Chief Example")
    for quarter in ("2026Q1", "2026Q2", "2026Q3", "2026Q4"):
        response = await intake.client.get(
            "/v1/agencies/kcmo/statistics", params={"quarter": quarter}, headers=bearer(chief)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["quarter"] == quarter and body["small_cell_threshold"] == 5
        text = json.dumps(body)
        assert not UUID.search(text) and not DAY.search(text)
        for name in (*HARMED, *year.expected.member_ids, "CAD-"):
            assert name not in text
        values = [v for g in body["groups"] for r in g["rows"] for v in r["values"].values()]
        assert all(v is None or v == "<5" or isinstance(v, int | float) for v in values)
        assert all(not (isinstance(v, int) and 1 <= v <= 4) for v in values)
    for role in ("manager", "coordinator"):
        token = await intake.token("kcmo", role)
        response = await intake.client.get(
            "/v1/agencies/kcmo/statistics?quarter=2026Q4", headers=bearer(token)
        )
        assert response.status_code == 200


async def test_who_may_not_read_statistics_and_bad_quarters(intake: Intake) -> None:
    chief = await intake.token("kcmo", "chief")
    commander = await intake.token("kcmo", "commander")
    cases = [
        (commander, "/v1/agencies/kcmo/statistics?quarter=2026Q4", 403, "only the chief"),
        (chief, "/v1/agencies/kck/statistics?quarter=2026Q4", 403, "not 'kck'"),
        (chief, "/v1/agencies/nowhere/statistics?quarter=2026Q4", 404, "no agency"),
        (chief, "/v1/agencies/kcmo/statistics?quarter=2026Q5", 422, "YYYYQn"),
        (chief, "/v1/agencies/kcmo/statistics?quarter=last", 422, "YYYYQn"),
        (chief, "/v1/agencies/kcmo/statistics", 422, "quarter: required"),
        (None, "/v1/agencies/kcmo/statistics?quarter=2026Q4", 401, ""),
    ]
    for token, url, status, says in cases:
        headers = bearer(token) if token else {}
        response = await intake.client.get(url, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert says in response.text
