"""The dashboard's listening socket, reserved before anything else starts.

``homeport up`` gives every service the dashboard's address before it starts them; reserving
the socket first (cheap, no imports) lets the dashboard itself load while the platform boots.
Telemetry sent before it serves waits in the socket's backlog.
"""

from __future__ import annotations

import socket

BACKLOG = 512


def reserve_listener(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host`` (a free port when ``port`` is 0)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


def listener_url(listener: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = listener.getsockname()[:2]
    return f"http://{host}:{port}"
