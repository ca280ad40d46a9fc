"""Run the emulator by hand.

    python -m tests.emulators.cloudflare --port 8787 --plan free --state cf-state.json

Without ``--state`` it starts from the default state (see ``defaults.py``). With one, it loads the
file if it exists (else starts from the default state) and writes the state back to it on exit
(Ctrl-C or SIGTERM). ``--port 0`` picks a free port; the URL is printed either way.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.emulators.cloudflare.api import ApiError
from tests.emulators.cloudflare.defaults import default_state
from tests.emulators.cloudflare.server import CloudflareEmulator
from tests.emulators.cloudflare.state import PLANS, EmulatorState


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulators.cloudflare", description="Cloudflare API v4 emulator"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--plan", choices=PLANS, default="free", help="plan of zones naming none")
    parser.add_argument("--state", type=Path, help="state file: read at start, written at exit")
    parser.add_argument("--rate-limit", type=int, default=1200, help="requests per window/token")
    parser.add_argument("--rate-window", type=float, default=300.0, help="window in seconds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM, then write the state file back."""
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.state is not None and args.state.exists():
        try:
            data = json.loads(args.state.read_text())
        except ValueError as error:
            print(
                f"error: {args.state} is not valid JSON ({error}); fix or remove it",
                file=sys.stderr,
            )
            return 1
    else:
        data = default_state(args.plan)
    try:
        state = EmulatorState(data, default_plan=args.plan)
    except ApiError as error:
        print(f"error: {args.state}: a record is refused ({error.describe()})", file=sys.stderr)
        return 1
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        print(f"error: {args.state}: not a valid state file ({error!r})", file=sys.stderr)
        return 1
    server = CloudflareEmulator(state, args.host, args.port, args.rate_limit, args.rate_window)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.start()
    token = state.tokens[0]["value"] if state.tokens else "(none)"
    print(f"Cloudflare emulator listening on {server.base_url}", flush=True)
    print(f"control API: {server.root_url}/__emulator__/  token: {token}", flush=True)
    stop.wait()
    server.stop()
    if args.state is not None:
        args.state.write_text(json.dumps(state.dump(), indent=2) + "\n")
        print(f"state written to {args.state}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
