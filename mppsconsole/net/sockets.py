"""pynetdicom tuning for every association we accept or open.

* pynetdicom never sets TCP_NODELAY, and each DIMSE message then waits on a
  delayed ACK (~40 ms per message on Linux loopback, DESIGN.md §5).
* Its default logging formats every PDU, DIMSE message and C-FIND identifier
  as text even when nothing is logged at that level: a third of the time of a
  1000-match worklist query. Our own traffic log and log lines replace it;
  ``verbose_pynetdicom(True)`` brings it back for a debugging session.
* It leaks the socket of a refused connection (see ``_shutdown_and_close``).
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from pynetdicom import _config, evt
from pynetdicom.events import Event
from pynetdicom.transport import AssociationSocket


def raw_socket(dul: Any) -> socket.socket | None:
    """The OS socket under a DUL's AssociationSocket (None before connecting, after closing)."""
    return getattr(getattr(dul, "socket", None), "socket", None)


def _set_nodelay(event: Event) -> None:
    raw = raw_socket(event.assoc.dul)
    if raw is not None:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Largest PDU we accept: 128 KiB moved 512² CT at 241 images/s where pynetdicom's
#: 16 KiB default gave 190 (DESIGN.md §5); the sweep in bench/store.py (16 KiB to
#: 1 MiB) finds no size above 64 KiB reliably faster, and each PDU is a buffer per
#: association. Both of our AEs announce it.
MAX_PDU_SIZE = 128 * 1024

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


def verbose_pynetdicom(enabled: bool) -> None:
    """pynetdicom's own narration of PDUs, messages and identifiers (off by default)."""
    _config.LOG_HANDLER_LEVEL = "standard" if enabled else "none"
    _config.LOG_RESPONSE_IDENTIFIERS = enabled
    _config.LOG_REQUEST_IDENTIFIERS = enabled


verbose_pynetdicom(False)
