"""Applies :mod:`mppsconsole.core.access` to associations and DIMSE requests.

Two places, two answers a peer can act on:

* **Association** (``EVT_REQUESTED``): a calling AE title that is not listed, or
  comes from a host its entry does not allow, gets A-ASSOCIATE-RJ
  rejected-permanent, "calling AE title not recognised" (the only PS3.8 reason
  that fits; the detail goes to our log and traffic view, never to the peer).
* **Service**: an admitted peer asking for a service its entry does not grant
  gets that request refused with an Error Comment naming the AE and the
  service ("CT1 is not authorized for worklist"). The status is 0x0124
  *Refused: Not authorized* for the DIMSE-N services (MPPS, storage
  commitment), where PS3.7 defines it; C-ECHO, C-FIND and C-STORE have no such
  status in PS3.7 (DCMTK prints 0x0124 there as "Unknown Status"), so they get
  0x0122 *Refused: SOP Class not supported*, the refusal PS3.7 does define for
  all three, and the comment says why. Refusing the presentation context
  instead would leave the peer with "abstract syntax not supported" and no
  comment at all, sending integrators looking for the problem on the wrong side.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pynetdicom.events import Event

from mppsconsole.core.access import AccessPolicy, refusal_comment
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.status import status_dataset

log = logging.getLogger("mppsconsole.net.server")  # where the other association lines go

#: PS3.7: the peer is not authorized to invoke the operation (DIMSE-N services).
NOT_AUTHORIZED = 0x0124
#: PS3.7: the refusal C-ECHO, C-FIND and C-STORE define (they have no "not authorized").
SOP_CLASS_NOT_SUPPORTED = 0x0122
_REFUSAL_STATUS = {
    "verification": SOP_CLASS_NOT_SUPPORTED,
    "worklist": SOP_CLASS_NOT_SUPPORTED,
    "storage": SOP_CLASS_NOT_SUPPORTED,
    "mpps": NOT_AUTHORIZED,
    "commitment": NOT_AUTHORIZED,
}
#: A-ASSOCIATE-RJ: rejected-permanent, service-user, calling AE title not recognised.
_REJECT = (0x01, 0x01, 0x03)

#: (event, calling AE title, reason) for a rejected association.
Rejected = Callable[[Event, str, str], None]
#: (event, service, error comment) for a refused request.
Denied = Callable[[Event, str, str], None]


def _calling(event: Event) -> tuple[str, str]:
    requestor = event.assoc.requestor
    return str(requestor.ae_title).strip(), str(requestor.address)


class AccessGate:
    """The allow-list check at association time and per request."""

    def __init__(
        self, policy: AccessPolicy, own_ae_title: str, on_rejected: Rejected, on_denied: Denied
    ) -> None:
        self.policy = policy
        self.own_ae_title = own_ae_title.strip()
        self.on_rejected = on_rejected
        self.on_denied = on_denied

    def on_requested(self, event: Event) -> None:
        """EVT_REQUESTED: reject a peer the access list does not admit."""
        if self.policy.is_open:
            return
        primitive = event.assoc.requestor.primitive
        if primitive is None or str(primitive.called_ae_title).strip() != self.own_ae_title:
            return  # pynetdicom rejects it next: "called AE title not recognised"
        # The requestor's AE title is filled in by the negotiation, after this event.
        calling = str(primitive.calling_ae_title).strip()
        decision = self.policy.admit(calling, str(event.assoc.requestor.address))
        if decision.admitted:
            return
        event.assoc.acse.send_reject(*_REJECT)
        self.on_rejected(event, calling, decision.reason)
        event.assoc.kill()

    def refused(self, event: Event, service: str) -> Any:
        """The refusal status for ``service``, or None when the peer may use it."""
        calling, address = _calling(event)
        if self.policy.permits(calling, address, service):
            return None
        comment = refusal_comment(calling, service)
        self.on_denied(event, service, comment)
        return status_dataset(_REFUSAL_STATUS[service], comment)

    def guard(self, service: str, handler: Callable[[Event], Any], shape: str) -> Any:
        """``handler`` behind the service check; ``shape`` is how its answer looks.

        ``"status"`` (C-ECHO, C-STORE: a status), ``"pair"`` (DIMSE-N: status and
        dataset), ``"yield"`` (C-FIND: a generator of (status, identifier)).
        """
        if self.policy.is_open:
            return handler

        if shape == "yield":

            @functools.wraps(handler)
            def find(event: Event) -> Iterator[Any]:
                refusal = self.refused(event, service)
                if refusal is not None:
                    yield refusal, None
                    return
                yield from handler(event)

            return find

        @functools.wraps(handler)
        def checked(event: Event) -> Any:
            refusal = self.refused(event, service)
            if refusal is None:
                return handler(event)
            return (refusal, None) if shape == "pair" else refusal

        return checked


class Refusals:
    """Logs, publishes (Traffic events) and counts what the SCP refuses.

    ``count`` is associations rejected for any reason (access list, called AE,
    too many associations) plus connections that failed the TLS handshake; the
    window shows it beside the association count. Reasons are plain sentences,
    so the traffic log and the audit trail can keep them as they are.
    """

    def __init__(self, ctx: ScpContext, own_ae_title: str) -> None:
        self.ctx = ctx
        self.own_ae_title = own_ae_title
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def counted(self) -> None:
        with self._lock:
            self._count += 1

    def association(self, event: Event, calling_ae: str, reason: str) -> None:
        """The access list rejected an association (pynetdicom's EVT_REJECTED does not fire)."""
        self.counted()
        requestor = event.assoc.requestor
        peer = Peer(calling_ae, f"{requestor.address}:{requestor.port}")
        called = self.own_ae_title
        text = f"Calling AE title not recognised: {reason}"
        log.warning("Association rejected from %s (called AE %s): %s", peer, called, text)
        self.ctx.traffic(peer, "ASSOCIATE", f"rejected: {reason}", f"called AE {called}")

    def service(self, event: Event, service: str, comment: str) -> None:
        peer = Peer.of(event)
        log.warning("Refused %s to %s: not authorized", service, peer)
        self.ctx.traffic(peer, service.upper(), "refused: not authorized", comment)

    def handshake(self, address: str, reason: str) -> None:
        """A TLS handshake failed (already logged by net/tls.py with the OpenSSL detail)."""
        self.counted()
        self.ctx.traffic(Peer("?", address), "TLS", f"rejected: {reason}")
