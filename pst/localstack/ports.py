"""Finding TCP ports on loopback for the local servers."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


_handed_out: set[int] = set()

# Where a port is looked for when the preferred one is taken: below the kernel's ephemeral
# range, the source ports of outgoing connections. A port from that range is free when probed
# yet can be taken, before the server binds it, by any connection opened in between (the
# stack's services open dozens to PostgreSQL and Kafka while the others start), and the server
# then fails with "address in use".
SEARCH_FLOOR = 20000
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_LOW = 32768
# room above a port handed out for the ports a caller derives from it (`pst up` takes the next
# eight for its services)
HEADROOM = 16


def ephemeral_low(range_file: Path = EPHEMERAL_RANGE_FILE) -> int:
    """The lowest port the kernel hands out as a connection's source port."""
    try:
        return int(range_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_LOW


def free_port(
    preferred: int | None = None,
    host: str = "127.0.0.1",
    *,
    rng: random.Random | None = None,
    range_file: Path = EPHEMERAL_RANGE_FILE,
) -> int:
    """The preferred port when nobody listens on it, else a free one below the ephemeral
    range (see `SEARCH_FLOOR`).

    A port is never handed out twice by one process: a port probed free is still free to the
    next probe until the server we start has bound it.
    """
    if preferred is not None and preferred not in _handed_out and port_is_free(preferred, host):
        _handed_out.add(preferred)
        return preferred
    choose = rng or random.SystemRandom()
    ceiling = ephemeral_low(range_file) - HEADROOM
    if ceiling <= SEARCH_FLOOR:
        raise RuntimeError(
            f"the kernel's ephemeral ports start at {ceiling + HEADROOM}: "
            f"no room below them from {SEARCH_FLOOR}"
        )
    # every port of the range once, from a random one: callers starting servers at once
    # rarely probe the same ports
    size = ceiling - SEARCH_FLOOR
    start = choose.randrange(size)
    for offset in range(size):
        port = SEARCH_FLOOR + (start + offset) % size
        if port not in _handed_out and port_is_free(port, host):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port on {host} from {SEARCH_FLOOR} to {ceiling}")


def wait_for_port(port: int, timeout_s: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
