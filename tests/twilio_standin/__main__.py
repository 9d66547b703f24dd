"""Run the Twilio stand-in alone, for a service started elsewhere (`pst up`, benchmarks):

    python -m tests.twilio_standin --port 18080 --auth-token T --callback-base http://127.0.0.1:8000

Point the service at it with PST_TWILIO_API_BASE=http://127.0.0.1:18080, and the same
PST_TWILIO_ACCOUNT_SID / PST_TWILIO_AUTH_TOKEN. It prints one JSON line with its settings, then
serves until interrupted. Another process drives it over HTTP:
- `GET  /_standin/requests[?since=n]`: every request received (from the n-th on), with its
  form and answer and its position (`index`);
- `POST /_standin/script`
  `{"resource": "Messages", "replies": [{"status": 429, "retry_after": 1}]}`;
- `POST /_standin/inbound` `{"from": "+1816...", "body": "YES 4821"}`: a signed inbound SMS;
- `POST /_standin/status`  `{"sid": "SM...", "status": "delivered"}`: a signed status callback;
- `POST /_standin/keys`    `{"call_sid": "CA...", "digits": "1"}`: a signed keypress.
`--auto-status sent,delivered` sends those status callbacks for every message created.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from tests.twilio_standin.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioStandIn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.twilio_standin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--callback-base", default="http://127.0.0.1:8000", help="the service's PST_PUBLIC_URL"
    )
    parser.add_argument(
        "--auto-status",
        default="",
        help="statuses to call back for every message, e.g. sent,delivered",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    standin = TwilioStandIn(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        callback_base=args.callback_base,
        host=args.host,
        port=args.port,
        auto_statuses=tuple(s for s in args.auto_status.split(",") if s),
    )
    async with standin:
        print(
            json.dumps(
                {
                    "url": standin.url,
                    "account_sid": standin.account_sid,
                    "callback_base": standin.callback_base,
                }
            ),
            flush=True,
        )
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
