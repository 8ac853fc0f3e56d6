"""Wake pynetdicom's DUL thread the moment there is something to do.

pynetdicom 3.0.4's DUL thread polls: when a loop found nothing to send or read,
it sleeps ``_run_loop_delay`` (1 ms) before looking again. Every DIMSE message
therefore waits up to a millisecond on the receiving DUL and again on the
sending one: about a fifth of an MPPS message's round trip between two
pynetdicom ends on loopback.

For the associations given to :func:`make_prompt`, the idle sleep becomes a
``select`` on the association's socket and on a wake-up socket pair, with the
same 1 ms bound: the DUL wakes when the peer's data arrives or when a primitive
is queued for it to send (the queue's ``put`` writes one byte to the pair).
Other associations keep pynetdicom's plain sleep.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import threading
import time
import types
from typing import Any

from pynetdicom import dul as _dul
from pynetdicom.association import Association

_WAKE = "_mppsconsole_wake"


def _idle(seconds: float) -> None:
    """``time.sleep`` as pynetdicom's DUL module sees it."""
    thread = threading.current_thread()
    pair = getattr(thread, _WAKE, None)
    sock = getattr(getattr(thread, "socket", None), "socket", None)
    if pair is None or sock is None:
        time.sleep(seconds)
        return
    reader = pair[0]
    try:
        ready, _, _ = select.select([sock, reader], [], [], seconds)
    except (OSError, ValueError):  # the socket closed: the DUL's next look says so
        return
    if reader in ready:
        with contextlib.suppress(BlockingIOError, OSError):
            reader.recv(4096)


class _DulTime(types.ModuleType):
    """The ``time`` module with a waking ``sleep``, for pynetdicom.dul only."""

    def __init__(self) -> None:
        super().__init__("time")
        self.__dict__.update({k: v for k, v in vars(time).items() if not k.startswith("__")})
        self.sleep = _idle


_installed = threading.Lock()


def _install() -> None:
    with _installed:
        if not isinstance(getattr(_dul, "time", None), _DulTime):
            setattr(_dul, "time", _DulTime())  # noqa: B010 (a module attribute mypy cannot see)


class _WakingQueue(queue.Queue):  # type: ignore[type-arg]
    """The DUL's outgoing queue: every put also wakes the DUL."""

    def __init__(self, writer: socket.socket) -> None:
        super().__init__()
        self._writer = writer

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        with contextlib.suppress(BlockingIOError, OSError):
            self._writer.send(b"\0")


def make_prompt(assoc: Association) -> None:
    """Let ``assoc``'s DUL wake on its socket and on queued primitives (idempotent).

    The wake-up pair is closed when the DUL thread ends.
    """
    dul = assoc.dul
    if getattr(dul, _WAKE, None) is not None:
        return
    _install()
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    outgoing = _WakingQueue(writer)
    with dul.to_provider_queue.mutex:  # keep anything already queued, in order
        outgoing.queue.extend(dul.to_provider_queue.queue)
        dul.to_provider_queue = outgoing
    setattr(dul, _WAKE, (reader, writer))
    threading.Thread(
        target=_close_after, args=(dul, reader, writer), daemon=True, name="dul-wake-close"
    ).start()


def _close_after(dul: threading.Thread, *pair: socket.socket) -> None:
    dul.join()
    for sock in pair:
        sock.close()
