"""Loopback ports for the servers tests start.

The kernel hands out an ephemeral port when a socket binds to port 0, and may hand out the
same one again as soon as that socket is closed. Tests pick several ports before binding any
(the provider's, then the apps' named in their registrations), so two picks could collide.
`free_port` therefore never returns a port it returned before in this process.
"""

from __future__ import annotations

import socket
import threading

HOST = "127.0.0.1"

_given: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now and no earlier call returned."""
    with _lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((HOST, 0))
                port = int(probe.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port
