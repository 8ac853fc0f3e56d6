"""Work around pynetdicom 3.0.4 losing a DIMSE response under back-to-back requests.

The association's reactor loop polls the DIMSE queue with ``get_msg(block=False)``
and serves what it takes as a *request*. A thread sending a request pauses the
reactor first, but the handshake is racy: the reactor sets ``_is_paused = True``,
its ``wait()`` returns at once, the sender clears the checkpoint and sees the
stale ``True``, sends, and the reactor's next poll takes the *response* and
drops it ("Received unexpected N-CREATE service message"); the sender then
waits out the DIMSE timeout and aborts (compare pynetdicom issue #875).

Rather than re-time the handshake, we make the reactor's poll leave responses
on the queue: responses only ever belong to the thread that sent the request,
which reads them with a blocking ``get_msg``. The peek and the take happen under
the queue's own lock, so no other consumer can slip in between.
"""

from __future__ import annotations

import queue
from typing import Any

from pynetdicom.association import Association


def _is_response(item: Any) -> bool:
    message = item[1] if isinstance(item, tuple) and len(item) == 2 else None
    return message is not None and not message.is_valid_request


def guard_responses(assoc: Association) -> None:
    """Stop ``assoc``'s reactor from consuming DIMSE responses (idempotent)."""
    dimse = assoc.dimse
    if getattr(dimse, "_mppsconsole_guarded", False):
        return
    original = dimse.get_msg
    msg_queue: queue.Queue[Any] = dimse.msg_queue

    def get_msg(block: bool = False) -> Any:
        if block:
            return original(block=True)
        with msg_queue.mutex:
            if not msg_queue.queue or _is_response(msg_queue.queue[0]):
                return None, None
            item = msg_queue.queue.popleft()
            msg_queue.not_full.notify()
            return item

    dimse.get_msg = get_msg  # type: ignore[method-assign]
    setattr(dimse, "_mppsconsole_guarded", True)  # noqa: B010
