"""Finding TCP ports on loopback for the local servers."""

from __future__ import annotations

import socket
import time


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


_handed_out: set[int] = set()


def free_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """The preferred port when nobody listens on it, else one the kernel hands out.

    A port is never handed out twice by one process: the kernel may offer a port again as soon
    as the probing socket closes, before the server we start has bound it.
    """
    if preferred is not None and preferred not in _handed_out and port_is_free(preferred, host):
        _handed_out.add(preferred)
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
