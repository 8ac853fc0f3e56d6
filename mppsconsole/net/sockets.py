"""Socket tuning for every association we accept or open.

pynetdicom never sets TCP_NODELAY, and each DIMSE message then waits on a
delayed ACK (~40 ms per message on Linux loopback, DESIGN.md §5).
"""

from __future__ import annotations

import contextlib
import socket

from pynetdicom import evt
from pynetdicom.events import Event
from pynetdicom.transport import AssociationSocket


def _set_nodelay(event: Event) -> None:
    sock = event.assoc.dul.socket
    raw = getattr(sock, "socket", None) if sock is not None else None
    if raw is not None:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Bind with ``evt_handlers=[NODELAY_HANDLER, ...]`` on servers and associations.
NODELAY_HANDLER = (evt.EVT_CONN_OPEN, _set_nodelay)


def _shutdown_and_close(self: AssociationSocket) -> None:
    """Close the socket even when it never connected.

    pynetdicom 3.0.4 calls ``shutdown()`` first and skips ``close()`` when that
    raises, which it does for a socket whose ``connect()`` failed: every refused
    connection then leaks a file descriptor (a ResourceWarning), and a console
    that retries a dead node for a shift runs out of descriptors.
    """
    sock = self.socket
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


AssociationSocket._shutdown_socket = _shutdown_and_close  # type: ignore[method-assign]
