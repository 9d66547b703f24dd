"""`pst serve SERVICE`: run one service alone, as production does."""

from __future__ import annotations

import argparse
import gc
import logging
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from pst.localstack.discovery import effective_settings
from shared.settings import Settings
from shared.structured_logging import configure_logging

SERVICES = ("intake", "dispatcher", "notifier", "console")

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="run one service (intake, dispatcher, notifier, console)"
    )
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, help="HTTP port (default: PST_HTTP_PORT)")
    parser.add_argument(
        "--shared-port",
        type=int,
        help=(
            "also listen on this port together with other processes serving the same service "
            "(SO_REUSEPORT: the kernel spreads new connections among them)"
        ),
    )
    parser.add_argument(
        "--with-notifier-routes",
        action="store_true",
        help="intake only: also serve the notifier's Twilio webhooks (the local stack's one port)",
    )
    parser.add_argument(
        "--with-console",
        action="store_true",
        help="intake only: also serve the console's pages under /console (the local stack's "
        "one port; the console service itself builds the read model)",
    )
    parser.set_defaults(run=run)


def build_app(
    service: str,
    settings: Settings,
    *,
    with_notifier_routes: bool = False,
    with_console: bool = False,
) -> FastAPI:
    if service == "intake":
        from services.intake.app import create_app as create_intake

        routers = []
        if with_notifier_routes:
            from services.notifier.webhooks import webhook_router

            routers.append(webhook_router())
        app = create_intake(settings, extra_routers=routers)
        if with_console:
            from services.console.app import create_console
            from services.console.web.pages import BASE
            from shared.http.mounting import mount_with_lifespan

            mount_with_lifespan(app, BASE, create_console(settings))
        return app
    if service == "console":
        from services.console.app import create_app as create_console_service

        return create_console_service(settings)
    if service == "dispatcher":
        from services.dispatcher.app import create_app as create_dispatcher

        return create_dispatcher(settings)
    from services.notifier.app import create_app as create_notifier

    return create_notifier(settings)


def listening_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A bound TCP socket for uvicorn to listen on (it listens once the app has started, so
    no connection reaches a process that is not ready). `shared` sets SO_REUSEPORT: every
    process that binds the port so takes its share of new connections, and one that stops
    (or restarts) only stops taking new ones."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def freeze_after_startup(app: FastAPI) -> None:
    """Move everything alive once the service has started (modules, routes, schemas, the
    policy registry, the engine) out of the garbage collector's sight (`gc.freeze`).

    None of it ever becomes garbage, yet each full collection walked all of it: a pause of
    about 80 ms every few thousand requests, longer than a whole request's latency budget.
    Done here, in the production entrypoint, not in the app: a test process builds many apps
    and must be able to collect them."""
    startup = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with startup(app):
            gc.freeze()
            yield

    app.router.lifespan_context = lifespan


def run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = effective_settings()
    configure_logging(args.service, settings.log_level)
    app = build_app(
        args.service,
        settings,
        with_notifier_routes=args.with_notifier_routes,
        with_console=args.with_console,
    )
    freeze_after_startup(app)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        # nothing reads the client's address or scheme: links and Twilio's signatures use
        # PST_PUBLIC_URL, so X-Forwarded-* would only cost a middleware pass per request
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    # the shared port first: uvicorn listens in this order, so a process that answers on its
    # own port already takes its share on the shared one
    ports = [(args.port or settings.http_port, False)]
    if args.shared_port is not None:
        ports.insert(0, (args.shared_port, True))
    sockets: list[socket.socket] = []
    try:
        for port, shared in ports:
            sockets.append(listening_socket(args.host, port, shared=shared))
    except OSError as error:
        for sock in sockets:
            sock.close()
        print(f"pst serve: cannot listen on {args.host}:{port}: {error}", file=sys.stderr)
        return 1
    log.info(
        "starting",
        extra={"service": args.service, "host": args.host, "ports": [p for p, _ in ports]},
    )
    uvicorn.Server(config).run(sockets=sockets)
    return 0
