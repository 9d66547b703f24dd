"""Counting and timing every HTTP request by route template, for Prometheus (plain ASGI)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "pst_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "pst_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_record)
        finally:
            requests, latency = self._series_for(scope, status["code"])
            requests.inc()
            latency.observe(time.perf_counter() - started)

    def _series_for(self, scope: Scope, status: int) -> tuple[Counter, Histogram]:
        """The labelled series, looked up once per (method, route, status): `labels()` checks
        and locks on every call, more than the count and the observation themselves."""
        route = _route_template(scope)
        key = (scope.get("method", ""), route, status)
        series = self._series.get(key)
        if series is None:
            method = key[0]
            series = (
                REQUESTS.labels(self._service, method, route, str(status)),
                LATENCY.labels(self._service, method, route),
            )
            self._series[key] = series
        return series


def _route_template(scope: Scope) -> str:
    matched = scope.get("route")
    if matched is not None:
        return str(getattr(matched, "path", "unmatched"))
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"
