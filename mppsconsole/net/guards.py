"""The SCP's resource limits (core/limits.py), enforced on pynetdicom's events.

* Concurrent associations: pynetdicom's own ``maximum_associations`` check
  (A-ASSOCIATE-RJ transient, local limit exceeded; logged by the server).
* Per-peer rate: an ``EVT_REQUESTED`` handler rejects with A-ASSOCIATE-RJ
  transient, temporary congestion, before any negotiation.
* Data set size: pynetdicom keeps a message in memory until its last
  fragment, so the size is checked at every P-DATA-TF (``EVT_PDU_RECV``, on the
  DUL thread, before the PDU's fragments are appended); over the limit the
  fragments are dropped and the association aborted: at most one PDU more than
  the limit is ever held.
* PDU size: pynetdicom reads whatever length a PDU header claims, so a peer
  could make us buffer 4 GiB in one PDU; a longer PDU than :data:`MAX_RECEIVED_PDU`
  is an invalid PDU (A-ABORT), see :func:`_recv_bounded`.
* Idle peers: ``acse_timeout`` (no A-ASSOCIATE-RQ) and ``network_timeout``
  (nothing inside an association) abort them; the abort is logged here.
* Undecodable command sets and a race of pynetdicom's state machine (our
  response queued while an abort is under way) killed the DUL thread with a
  traceback; see :func:`_receive_primitive_or_abort` and :func:`_do_action_tolerant`.
* A peer announcing a maximum PDU length of 0 (unlimited) or more than we
  announce gets ours: pynetdicom would otherwise send a whole message, even a
  1 GiB image, in one PDU.
"""

from __future__ import annotations

import logging
import threading
import weakref
from io import BytesIO
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.events import Event
from pynetdicom.fsm import TRANSITION_TABLE, StateMachine
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.pdu_primitives import P_DATA, MaximumLengthNotification
from pynetdicom.transport import AssociationSocket

from mppsconsole.core.limits import Limits, RateLimiter
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.sockets import MAX_PDU_SIZE

log = logging.getLogger(__name__)

#: Longest PDU read from any peer: ours announce 128 KiB; A-ASSOCIATE PDUs stay far below.
MAX_RECEIVED_PDU = 1024 * 1024
#: (result, source, diagnostic) of A-ASSOCIATE-RJ: transient, presentation related,
#: temporary congestion (PS3.8 9.3.4).
_CONGESTION = (0x02, 0x03, 0x01)
_COMMAND_BIT = 0x01


def configure(ae: AE, limits: Limits) -> None:
    """Concurrent associations and idle timeouts, which pynetdicom enforces itself."""
    ae.maximum_associations = limits.max_associations
    ae.acse_timeout = limits.idle_timeout
    ae.network_timeout = limits.idle_timeout


class PeerGuard:
    """The event handlers that keep one peer from taking the whole SCP."""

    def __init__(self, context: ScpContext) -> None:
        self.ctx = context
        self.limits = context.settings.limits
        self.rate = RateLimiter(self.limits.associations_per_minute)
        self._cut: weakref.WeakSet[Association] = weakref.WeakSet()  # aborted for size

    @property
    def handlers(self) -> list[tuple[Any, Any]]:
        return [
            (evt.EVT_REQUESTED, self.on_requested),
            (evt.EVT_PDU_RECV, self.on_pdu),
            (evt.EVT_ABORTED, self.on_aborted),
            (evt.EVT_CONN_CLOSE, self.on_closed),
        ]

    def on_requested(self, event: Event) -> None:
        assoc = event.assoc
        _remember_idle_expiry(assoc)
        requestor = assoc.requestor
        if not self.rate.allow(str(requestor.address)):
            reason = f"over {self.limits.associations_per_minute} associations per minute"
            self._refuse(assoc, reason)
            return
        _bound_send_pdu(assoc)

    def _refuse(self, assoc: Association, reason: str) -> None:
        primitive = assoc.requestor.primitive
        calling = str(primitive.calling_ae_title).strip() if primitive else ""
        peer = Peer(calling, _address(assoc))
        log.warning("Association from %s rejected (temporary congestion): %s", peer, reason)
        self.ctx.traffic(peer, "ASSOCIATE", "rejected: temporary congestion", reason)
        assoc.acse.send_reject(*_CONGESTION)
        assoc.kill()  # as pynetdicom does after its own rejections

    def on_pdu(self, event: Event) -> None:
        pdu = event.pdu
        if not isinstance(pdu, P_DATA_TF):
            return
        if event.assoc in self._cut:  # until our A-ABORT is out
            pdu.presentation_data_value_items = []
            return
        message = event.assoc.dimse.message
        if message is None or "CommandField" not in message.command_set:
            return  # the command set is still arriving: bounded by the PDU size
        limit = (
            self.limits.max_store_bytes
            if isinstance(message, C_STORE_RQ)
            else self.limits.max_request_bytes
        )
        if not limit or message.data_set is None:
            return
        items = pdu.presentation_data_value_items
        fragments = [item.presentation_data_value or b"\x00" for item in items]
        arriving = sum(len(pdv) - 1 for pdv in fragments if not pdv[0] & _COMMAND_BIT)
        held = message.data_set.tell()
        if held + arriving <= limit:
            return
        pdu.presentation_data_value_items = []  # never appended to the message
        message.data_set = BytesIO()  # and what came before is let go
        self._cut.add(event.assoc)
        peer = Peer.of(event)
        command = type(message).__name__.replace("_RQ", "").replace("_", "-")
        reason = f"{command} data set over {limit} bytes"
        log.warning("Association with %s aborted: %s", peer, reason)
        self.ctx.traffic(peer, command, "aborted: data set too large", reason)
        # Not here: a blocking abort waits for this (the DUL) thread to go idle.
        threading.Thread(target=event.assoc.abort, name="abort-oversized", daemon=True).start()

    def on_closed(self, event: Event) -> None:
        """A connection closed while still awaiting its A-ASSOCIATE-RQ (Sta2) timed out.

        (The ARTIM timer's expiry is the only way out of Sta2 that reports a close.)
        """
        assoc = event.assoc
        if assoc.is_acceptor and assoc.dul.state_machine.current_state == "Sta2":
            peer = Peer("", _address(assoc))
            idle = self.limits.idle_timeout
            log.warning("Connection from %s closed: no association request in %d s", peer, idle)
            self.ctx.traffic(peer, "CONNECT", "idle timeout", f"{idle} s")

    def on_aborted(self, event: Event) -> None:
        dul = event.assoc.dul
        if getattr(dul, _IDLE_EXPIRED, False) or dul.idle_timer_expired():
            peer = Peer.of(event)
            log.warning(
                "Association with %s aborted: idle for %d s", peer, self.limits.idle_timeout
            )
            self.ctx.traffic(peer, "ABORT", "idle timeout", f"{self.limits.idle_timeout} s")


#: Set on a DUL once its idle timer was seen expired (the reactor then aborts).
_IDLE_EXPIRED = "_mppsconsole_idle_expired"


def _remember_idle_expiry(assoc: Association) -> None:
    """Keep the reactor's finding that the association went idle.

    By the time EVT_ABORTED is handled, the DUL may have seen the connection
    close, and that restarts its idle timer: asking the timer then says "not
    idle" about an association aborted for being idle.
    """
    dul = assoc.dul
    expired = dul.idle_timer_expired

    def checked() -> bool:
        if expired():
            setattr(dul, _IDLE_EXPIRED, True)
            return True
        return False

    dul.idle_timer_expired = checked  # type: ignore[method-assign]


def _bound_send_pdu(assoc: Association) -> None:
    """Send PDUs no longer than ours when the peer asks for unlimited or longer ones."""
    primitive = assoc.requestor.primitive
    if primitive is None:
        return
    items = primitive.user_information
    notes = [i for i in items if isinstance(i, MaximumLengthNotification)]
    if not notes:  # mandatory (PS3.7 D.3.3.1), but pynetdicom cannot send without one
        notes = [MaximumLengthNotification()]
        items.append(notes[0])
    for note in notes:
        announced = note.maximum_length_received
        if not announced or announced > MAX_PDU_SIZE:
            note.maximum_length_received = MAX_PDU_SIZE


def _address(assoc: Association) -> str:
    return f"{assoc.requestor.address}:{assoc.requestor.port}"


def _recv_bounded(self: AssociationSocket, nr_bytes: int) -> bytearray:
    """pynetdicom's ``recv``, refusing to read a PDU longer than :data:`MAX_RECEIVED_PDU`.

    The DUL reads a PDU's 6-byte header, then asks for its whole length at once.
    For an absurd length this signals an invalid PDU (Evt19: A-ABORT to the
    peer) and returns nothing, which ends the read as a closed connection would.
    """
    if nr_bytes > MAX_RECEIVED_PDU:
        log.warning("Peer sent a PDU of %d bytes (limit %d): aborting", nr_bytes, MAX_RECEIVED_PDU)
        self.assoc.dul.event_queue.put("Evt19")
        return bytearray()
    return _unbounded_recv(self, nr_bytes)


_unbounded_recv = AssociationSocket.recv
AssociationSocket.recv = _recv_bounded  # type: ignore[method-assign]


def _receive_primitive_or_abort(self: DIMSEServiceProvider, primitive: P_DATA) -> None:
    """pynetdicom's P-DATA assembly; a command set it cannot decode is an invalid PDU.

    pynetdicom 3.0.4 decodes the command set (and looks up its Command Field)
    without a guard: a peer's bad bytes raised in the DUL thread, which died
    with a traceback and left the peer without an A-ABORT.
    """
    try:
        _receive_primitive(self, primitive)
    except Exception as exc:
        log.warning("Invalid DIMSE message from %s: %s: aborting", _address(self.assoc), exc)
        self.message = None
        self.dul.event_queue.put("Evt19")  # A-ABORT to the peer (PS3.8 AA-8)


def _do_action_tolerant(self: StateMachine, event: str) -> None:
    """Drop what the association can no longer send while its abort is under way (Sta13).

    Our handler may queue a response just as the peer's bad PDU makes the DUL
    abort; pynetdicom's state machine then raises InvalidEventError for
    "Evt9 in Sta13" and the DUL thread dies with a traceback.
    """
    if self.current_state == "Sta13" and (event, "Sta13") not in TRANSITION_TABLE:
        log.debug("Dropped %s: the association is being aborted", event)
        return
    _do_action(self, event)


_receive_primitive = DIMSEServiceProvider.receive_primitive
DIMSEServiceProvider.receive_primitive = _receive_primitive_or_abort  # type: ignore[method-assign]
_do_action = StateMachine.do_action
StateMachine.do_action = _do_action_tolerant  # type: ignore[method-assign]
