"""``python -m homeport.dashboard --state-dir D [--port P]``: the dashboard as its own process.

It serves until SIGTERM or SIGINT and prints one line, its URL with the token, when it listens.
It finds the supervisor through ``control.json`` in the state directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path

from homeport.dashboard.control import ControlLink
from homeport.dashboard.server import forget_dashboard_file, open_dashboard
from homeport.dashboard.store import Limits
from homeport.errors import HomeportError

TOKEN_VARIABLE = "HOMEPORT_DASHBOARD_TOKEN"  # noqa: S105 - a variable name, not a secret


async def serve(state_dir: Path, host: str, port: int, limits: Limits) -> None:
    """Serve until a signal; the token comes from HOMEPORT_DASHBOARD_TOKEN or is made up."""
    token = os.environ.get(TOKEN_VARIABLE) or secrets.token_urlsafe(24)
    link = ControlLink(state_dir)
    runner, store, base_url = await open_dashboard(
        state_dir, link, host, port, token, limits=limits
    )
    print(f"{base_url}/?t={token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        store.close()
        link.close()
        forget_dashboard_file(state_dir)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m homeport.dashboard")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    defaults = Limits()
    parser.add_argument("--max-spans", type=int, default=defaults.max_spans)
    parser.add_argument("--max-logs", type=int, default=defaults.max_logs)
    parser.add_argument("--max-age", type=float, default=defaults.max_age_seconds, help="seconds")
    args = parser.parse_args(argv)
    limits = Limits(args.max_spans, args.max_logs, defaults.max_metrics, args.max_age)
    try:
        asyncio.run(serve(args.state_dir, args.host, args.port, limits))
    except HomeportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
