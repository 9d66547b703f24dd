"""`free_port`: a port the local servers can bind later, never one a connection may take first."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from pst.localstack.ports import SEARCH_FLOOR, ephemeral_low, free_port


def _range_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ip_local_port_range"
    path.write_text(text)
    return path


def test_the_ephemeral_range_is_read_from_the_kernel_file(tmp_path: Path) -> None:
    assert ephemeral_low(_range_file(tmp_path, "40000\t60999\n")) == 40000
    assert ephemeral_low(tmp_path / "missing") == 32768
    assert ephemeral_low(_range_file(tmp_path, "garbage")) == 32768


def test_a_port_handed_out_lies_below_the_ephemeral_range(tmp_path: Path) -> None:
    """The kernel hands out source ports from the ephemeral range to every outgoing
    connection: a port from there, probed free, can be taken before the server binds it."""
    range_file = _range_file(tmp_path, "32768\t60999\n")
    ports = [free_port(rng=random.Random(n), range_file=range_file) for n in range(50)]
    assert all(SEARCH_FLOOR <= port < 32768 - 8 for port in ports), ports
    assert len(set(ports)) == len(ports)


def test_the_preferred_port_is_kept_when_free_and_never_handed_out_twice(tmp_path: Path) -> None:
    range_file = _range_file(tmp_path, "32768\t60999\n")
    preferred = free_port(range_file=range_file)
    # `preferred` is now handed out: asking for it again gives another port
    again = free_port(preferred, range_file=range_file)
    assert again != preferred


def test_a_taken_preferred_port_falls_back_below_the_ephemeral_range(tmp_path: Path) -> None:
    range_file = _range_file(tmp_path, "32768\t60999\n")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        port = free_port(taken, range_file=range_file)
    assert port != taken
    assert SEARCH_FLOOR <= port < 32768


def test_no_room_below_the_ephemeral_range_is_said(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="ephemeral ports start at"):
        free_port(range_file=_range_file(tmp_path, "20005\t60999\n"))
