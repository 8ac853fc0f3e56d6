"""Pacing a C-FIND's pending responses, and noticing a C-CANCEL between them.

pynetdicom's handler thread only queues each response for the DUL thread, which
sends everything queued before it reads the socket again (one action per loop,
sending first). A handler that yields from memory also keeps the GIL from the
DUL: measured, 400 responses (800 P-DATA primitives) were all queued before the
first one left, so the peer waited for the whole stream to be built before its
first match, and its C-CANCEL after that match was read only once everything
had been sent. So, between two responses:

* the handler waits (sleeping, which hands the GIL over) while more than
  :data:`MAX_QUEUED` primitives are waiting to be sent: matches flow as they
  are made, and memory stays bounded whatever the query returns;
* it looks at the socket (a zero-timeout ``select``, about a microsecond): only
  when the peer has sent something does it let the DUL drain its queue and read
  it, and then asks pynetdicom whether that was a C-CANCEL. A silent peer, the
  usual case, costs nothing more.
"""

from __future__ import annotations

import select
import socket
import time

from pynetdicom.events import Event

from mppsconsole.net.sockets import raw_socket

#: Primitives (two per response: command and identifier) allowed to wait for the DUL.
MAX_QUEUED = 16
#: How long to give the DUL to send what is queued and read what the peer sent.
_READ_WAIT_S = 0.5
_POLL_S = 0.0005


def _readable(raw: socket.socket) -> bool:
    try:
        ready, _, _ = select.select([raw], [], [], 0)
    except (OSError, ValueError):  # closed under us: the association is ending anyway
        return False
    return bool(ready)


def cancelled(event: Event) -> bool:
    """Whether the peer has cancelled this request; first waits for the DUL to catch up."""
    dul = event.assoc.dul
    deadline = time.monotonic() + _READ_WAIT_S
    while dul.to_provider_queue.qsize() > MAX_QUEUED and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if event.is_cancelled:
        return True
    raw = raw_socket(dul)
    if raw is None or not _readable(raw):
        return False
    # The DUL reads only with nothing left to send; then the PDU is decoded (and a
    # C-CANCEL recorded) on its thread before the socket reads empty again.
    while time.monotonic() < deadline and event.assoc.is_established:
        if event.is_cancelled:
            return True
        if dul.to_provider_queue.empty() and not _readable(raw):
            break
        time.sleep(_POLL_S)
    time.sleep(_POLL_S)  # the state machine hands the decoded message on
    return event.is_cancelled
