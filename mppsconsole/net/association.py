"""Opening an association as an SCU, with the exact reason when it fails.

pynetdicom only logs why a connection failed; users need it in the error
message ("connection refused", "rejected: called AE title not recognised",
"no answer within 10 s"), so the transport's log record is captured for the
association's own thread and turned into a :class:`PeerError`.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from pydicom.uid import UID
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_ASSOCIATE
from pynetdicom.presentation import PresentationContext

from mppsconsole.core.errors import PeerError, PeerUnreachable
from mppsconsole.core.settings import Node
from mppsconsole.net import tls
from mppsconsole.net.prompt_dul import make_prompt
from mppsconsole.net.reactor_guard import guard_responses
from mppsconsole.net.sockets import MAX_PDU_SIZE, NODELAY_HANDLER

#: Bounds every SCU call: association negotiation, each DIMSE response, idle socket.
ACSE_TIMEOUT = 10.0
DIMSE_TIMEOUT = 30.0
NETWORK_TIMEOUT = 60.0


#: Recorded for a connection the peer reset while we waited for its answer.
_RESET = "connection reset"


class _ConnectErrors(logging.Handler):
    """Collects pynetdicom's 'TCP Initialisation Error' lines, by thread."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_thread: dict[str, str] = {}
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if message.startswith("TCP Initialisation Error:"):
            text = message.partition(":")[2].strip()
        elif isinstance(error, ssl.SSLError):
            # A TLS 1.3 server refuses a client certificate (or its absence) after the
            # handshake: the DUL's first read fails, and pynetdicom logs it (dul.py).
            text = str(error)
        elif isinstance(error, ConnectionResetError):
            # What a plain client hears from a TLS port that gave up on its handshake.
            text = _RESET
        else:
            return
        with self.lock_:
            self.by_thread[record.threadName or ""] = text


_connect_errors = _ConnectErrors()
logging.getLogger("pynetdicom.transport").addHandler(_connect_errors)
logging.getLogger("pynetdicom.dul").addHandler(_connect_errors)


def _describe_connect_error(text: str) -> str:
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused (is the peer listening on that port?)"
    if "timed out" in lowered:
        return "no answer (timed out; check host, port and firewall)"
    if "name or service not known" in lowered or "nodename" in lowered:
        return "unknown host name"
    if "unreachable" in lowered:
        return "network unreachable"
    return text


def _unreported_rejection(assoc: Association) -> A_ASSOCIATE | None:
    """An A-ASSOCIATE-RJ that pynetdicom received but reported as an abort.

    pynetdicom 3.0.4's requestor waits for the connection, then checks that the
    socket is still connected before reading the answer. A peer that rejects at
    once and closes (DCMTK with TCP_NODELAY: about one time in six) has already
    been handled by the DUL thread by then: the socket is closed, the requestor
    takes that for a failed connection and aborts, and the rejection is left
    unread in the DUL's queue. Users must still hear "rejected" and why.
    """
    pending = assoc.dul.to_user_queue
    with pending.mutex:
        queued = list(pending.queue)
    for primitive in queued:
        if isinstance(primitive, A_ASSOCIATE) and primitive.result in (0x01, 0x02):
            return primitive
    return None


def _failure(assoc: Association, node: Node, elapsed: float) -> PeerError:
    """Why the association was not established; ``elapsed`` is the time it took to fail."""
    where = f"{node.ae_title}@{node.host}:{node.port}"
    late_rejection = None if assoc.is_rejected else _unreported_rejection(assoc)
    if assoc.is_rejected or late_rejection is not None:
        primitive = late_rejection or assoc.acceptor.primitive
        reason = getattr(primitive, "reason_str", "") or "no reason given"
        result = getattr(primitive, "result_str", "")
        # A transient rejection (result 2: busy, resources) is "try later", not "no".
        kind = PeerUnreachable if getattr(primitive, "result", None) == 0x02 else PeerError
        return kind(
            f"association rejected by {where}: {reason}" + (f" ({result})" if result else "")
        )
    with _connect_errors.lock_:
        # The DUL thread makes the TCP connection, so its records carry its name.
        connect_error = _connect_errors.by_thread.pop(assoc.dul.name, None)
    if connect_error == _RESET:
        hint = "" if node.tls else " (does it expect TLS?)"
        return PeerError(f"{where} reset the connection during negotiation{hint}")
    if connect_error and node.tls and tls.is_tls_failure(connect_error):
        return PeerError(f"TLS with {node.host}:{node.port} failed: {tls.describe(connect_error)}")
    if connect_error:
        return PeerUnreachable(
            f"cannot connect to {node.host}:{node.port}: {_describe_connect_error(connect_error)}"
        )
    answer = assoc.acceptor.primitive
    if isinstance(answer, A_ASSOCIATE) and answer.result == 0x00 and not assoc.accepted_contexts:
        # pynetdicom aborts an association whose contexts were all refused: the
        # peer is there and answered, it just does not offer the service.
        names = dict.fromkeys(
            UID(str(cx.abstract_syntax)).name for cx in assoc.requestor.requested_contexts
        )
        return PeerError(f"{where} does not accept {', '.join(names)}")
    # pynetdicom aborts on an ACSE timeout too, so ``is_aborted`` cannot tell a
    # peer that aborted (or hung up) from one that never answered; the time can.
    if assoc.is_aborted and elapsed < ACSE_TIMEOUT:
        return PeerUnreachable(f"association aborted by {where} during negotiation")
    return PeerUnreachable(
        f"no answer from {where} within {ACSE_TIMEOUT:g} s (association timeout)"
    )


def _missing_context(assoc: Association, abstract_syntaxes: Sequence[str]) -> str | None:
    accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    for uid in abstract_syntaxes:
        if uid not in accepted:
            return uid
    return None


@contextlib.contextmanager
def associate(
    local_ae_title: str,
    node: Node,
    contexts: Sequence[PresentationContext],
    *,
    required: Sequence[str] = (),
    ext_neg: Sequence[Any] = (),
    handlers: Sequence[Any] = (),
) -> Iterator[Association]:
    """An established association, released on exit (aborted if the block raised).

    ``required`` lists abstract syntaxes the peer must accept, so "peer does not
    support MPPS" is reported as such rather than as a later, obscure failure.
    """
    tls_args = tls.client_args(node)
    ae = AE(ae_title=local_ae_title)
    ae.maximum_pdu_size = MAX_PDU_SIZE
    ae.connection_timeout = ACSE_TIMEOUT
    ae.acse_timeout = ACSE_TIMEOUT
    ae.dimse_timeout = DIMSE_TIMEOUT
    ae.network_timeout = NETWORK_TIMEOUT
    ae.requested_contexts = list(contexts)
    started = time.monotonic()
    assoc = ae.associate(
        node.host,
        node.port,
        ae_title=node.ae_title,
        ext_neg=list(ext_neg) or None,
        evt_handlers=[NODELAY_HANDLER, *handlers],
        tls_args=tls_args,
    )
    if not assoc.is_established:
        raise _failure(assoc, node, time.monotonic() - started)
    guard_responses(assoc)
    make_prompt(assoc)
    missing = _missing_context(assoc, required)
    if missing is not None:
        assoc.release()
        raise PeerError(
            f"{node.ae_title}@{node.host}:{node.port} does not accept {UID(missing).name}"
        )
    try:
        yield assoc
    except BaseException:
        assoc.abort()
        raise
    if assoc.is_established:
        assoc.release()


def check_response(status: Any, what: str, node: Node) -> int:
    """The status code of a DIMSE response; PeerError when there is none (timeout/abort)."""
    code = getattr(status, "Status", None)
    if code is None:
        # The request went out: the peer may have acted on it before the answer was lost.
        raise PeerUnreachable(
            f"no response to {what} from {node.ae_title}@{node.host}:{node.port} "
            f"(timeout after {DIMSE_TIMEOUT:.0f} s or association aborted)",
            maybe_delivered=True,
        )
    return int(code)
