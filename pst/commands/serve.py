"""`pst serve SERVICE`: run one service alone, as production does."""

from __future__ import annotations

import argparse
from typing import Any

from fastapi import FastAPI

from pst.localstack.discovery import effective_settings
from shared.settings import Settings
from shared.structured_logging import configure_logging

SERVICES = ("intake", "dispatcher", "notifier")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run one service (intake, dispatcher, notifier)")
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, help="HTTP port (default: PST_HTTP_PORT)")
    parser.add_argument(
        "--with-notifier-routes",
        action="store_true",
        help="intake only: also serve the notifier's Twilio webhooks (the local stack's one port)",
    )
    parser.set_defaults(run=run)


def build_app(service: str, settings: Settings, *, with_notifier_routes: bool = False) -> FastAPI:
    if service == "intake":
        from services.intake.app import create_app as create_intake

        if with_notifier_routes:
            from services.notifier.webhooks import webhook_router

            return create_intake(settings, extra_routers=[webhook_router()])
        return create_intake(settings)
    if service == "dispatcher":
        from services.dispatcher.app import create_app as create_dispatcher

        return create_dispatcher(settings)
    from services.notifier.app import create_app as create_notifier

    return create_notifier(settings)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = effective_settings()
    configure_logging(args.service, settings.log_level)
    app = build_app(args.service, settings, with_notifier_routes=args.with_notifier_routes)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port or settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()
    return 0
