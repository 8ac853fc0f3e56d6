"""Socket tuning for every association we accept or open.

pynetdicom never sets TCP_NODELAY, and each DIMSE message then waits on a
delayed ACK (~40 ms per message on Linux loopback, DESIGN.md §5).
"""

from __future__ import annotations

import socket

from pynetdicom import evt
from pynetdicom.events import Event


def _set_nodelay(event: Event) -> None:
    sock = event.assoc.dul.socket
    raw = getattr(sock, "socket", None) if sock is not None else None
    if raw is not None:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Bind with ``evt_handlers=[NODELAY_HANDLER, ...]`` on servers and associations.
NODELAY_HANDLER = (evt.EVT_CONN_OPEN, _set_nodelay)
