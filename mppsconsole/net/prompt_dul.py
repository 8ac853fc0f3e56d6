"""Wake pynetdicom's DUL thread the moment there is something to do.

pynetdicom 3.0.4's DUL thread polls: when a loop found nothing to send or read,
it sleeps ``_run_loop_delay`` (1 ms) before looking again. Every DIMSE message
therefore waits up to a millisecond on the receiving DUL and again on the
sending one (about a fifth of an MPPS message's round trip between two
pynetdicom ends on loopback), and every idle association costs a thousand
wake-ups a second (with 8 concurrent associations, a fifth of the SCP's
throughput went to them).

For the associations given to :func:`make_prompt`, the idle sleep becomes a
``select`` on the association's socket and on a wake-up socket pair, for up to
:data:`IDLE_WAIT_S`: the DUL wakes when the peer's data arrives, when a
primitive is queued for it to send, and when another thread puts an event on
its queue (an abort, say) or stops it; the queues' ``put`` writes one byte to
the pair. Once the DUL is being stopped it polls as pynetdicom does, so that
it ends as fast as before. Other associations keep pynetdicom's plain sleep.
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

from mppsconsole.net.sockets import raw_socket

_WAKE = "_mppsconsole_wake"
_STOPPING = "_mppsconsole_stopping"
#: Longest idle wait: what an event nobody wakes the DUL for waits at most (the ARTIM
#: timer after a release, say); everything on the message path wakes it at once.
IDLE_WAIT_S = 0.01


def _idle(seconds: float) -> None:
    """``time.sleep`` as pynetdicom's DUL module sees it."""
    thread = threading.current_thread()
    pair = getattr(thread, _WAKE, None)
    sock = raw_socket(thread)
    if pair is None or sock is None or getattr(thread, _STOPPING, False):
        time.sleep(seconds)
        return
    reader = pair[0]
    try:
        ready, _, _ = select.select([sock, reader], [], [], IDLE_WAIT_S)
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
    """A DUL queue whose ``put`` from any other thread wakes the DUL."""

    def __init__(self, dul: threading.Thread, writer: socket.socket) -> None:
        super().__init__()
        self._dul = dul
        self._writer = writer

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        if threading.current_thread() is not self._dul:  # the DUL is awake already
            _wake(self._writer)


def _wake(writer: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError, OSError):
        writer.send(b"\0")


def _replace_queue(dul: Any, name: str, writer: socket.socket) -> None:
    """Swap ``dul.<name>`` for a waking queue holding what is queued, in order."""
    old: queue.Queue[Any] = getattr(dul, name)
    new = _WakingQueue(dul, writer)
    with old.mutex:
        new.queue.extend(old.queue)
        setattr(dul, name, new)


def _waking_stop(dul: Any, name: str, writer: socket.socket) -> None:
    """Wrap ``dul.<name>`` (stop_dul, kill_dul): the DUL polls again, and is woken."""
    stop = getattr(dul, name)

    def stopping() -> Any:
        setattr(dul, _STOPPING, True)
        _wake(writer)
        return stop()

    setattr(dul, name, stopping)


def make_prompt(assoc: Association) -> None:
    """Let ``assoc``'s DUL wake on its socket, its queues and its stop (idempotent).

    Called while the association's own thread is the only one using it (just
    accepted or just established). The wake-up pair is closed when the DUL ends.
    """
    dul = assoc.dul
    if getattr(dul, _WAKE, None) is not None:
        return
    _install()
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    _replace_queue(dul, "to_provider_queue", writer)
    _replace_queue(dul, "event_queue", writer)
    _waking_stop(dul, "stop_dul", writer)
    _waking_stop(dul, "kill_dul", writer)
    setattr(dul, _WAKE, (reader, writer))
    threading.Thread(
        target=_close_after, args=(dul, reader, writer), daemon=True, name="dul-wake-close"
    ).start()


def _close_after(dul: threading.Thread, *pair: socket.socket) -> None:
    dul.join()
    for sock in pair:
        sock.close()
