"""The department node: one pynetdicom AE serving every SCP of the console."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from pydicom import uid
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.association import Association
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole.core.errors import UserError
from mppsconsole.core.events import EventHub
from mppsconsole.core.settings import Settings
from mppsconsole.net import faults, guards, tls, write_failures
from mppsconsole.net.access_gate import AccessGate, Refusals
from mppsconsole.net.commitment_scp import CommitmentScp
from mppsconsole.net.mpps_scp import MppsScp
from mppsconsole.net.mwl_scp import WorklistScp
from mppsconsole.net.prompt_dul import make_prompt
from mppsconsole.net.reactor_guard import guard_responses
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.shared_contexts import share_contexts
from mppsconsole.net.sockets import MAX_PDU_SIZE, NODELAY_HANDLER, raw_socket
from mppsconsole.net.storage_scp import StorageScp
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)

#: Transfer syntaxes accepted for storage, preferred first (stored as received).
STORAGE_TRANSFER_SYNTAXES = [
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.DeflatedExplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
    uid.RLELossless,
    uid.JPEGBaseline8Bit,
    uid.JPEGExtended12Bit,
    uid.JPEGLossless,
    uid.JPEGLosslessSV1,
    uid.JPEGLSLossless,
    uid.JPEGLSNearLossless,
    uid.JPEG2000Lossless,
    uid.JPEG2000,
]
#: Transfer syntaxes for the non-storage services.
COMMAND_TRANSFER_SYNTAXES = [
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.DeflatedExplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
]
#: How long :meth:`DepartmentServer.stop` lets connected peers take an A-ABORT.
STOP_GRACE_S = 1.0


class DepartmentServer:
    """Verification, MPPS, worklist, storage and storage commitment SCPs on one port."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        images_dir: Path,
        events: EventHub | None = None,
    ) -> None:
        self.settings = settings
        self.events = events or EventHub()
        context = ScpContext(db=db, settings=settings, images_dir=images_dir, events=self.events)
        self.ctx = context
        self.mpps = MppsScp(context)
        self.worklist = WorklistScp(context)
        self.storage = StorageScp(context)
        self.commitment = CommitmentScp(context)
        self.guard = guards.PeerGuard(context)  # resource limits (net/guards.py)
        self._server: ThreadedAssociationServer | None = None
        # Access control and TLS (issue #6).
        self.refusals = Refusals(context, settings.ae_title)
        self.gate = AccessGate(
            settings.access_policy(),
            settings.ae_title,
            self.refusals.association,
            self.refusals.service,
        )

    def _on_accepted(self, event: Event) -> None:
        guard_responses(event.assoc)
        make_prompt(event.assoc)
        peer = Peer.of(event)
        secured = tls.session_summary(raw_socket(event.assoc.dul))
        log.info("Association accepted from %s%s", peer, f" ({secured})" if secured else "")
        self.ctx.traffic(peer, "ASSOCIATE", "accepted", secured)

    @property
    def refused(self) -> int:
        """Associations rejected and TLS handshakes failed since the server was made."""
        return self.refusals.count

    def _on_rejected(self, event: Event) -> None:
        self.refusals.counted()
        primitive = event.assoc.acceptor.primitive
        requested = event.assoc.requestor.primitive
        called = requested.called_ae_title if requested else ""
        reason = getattr(primitive, "reason_str", "") if primitive else ""
        peer = Peer.of(event)
        log.warning("Association rejected from %s (called AE %s): %s", peer, called, reason)
        self.ctx.traffic(peer, "ASSOCIATE", f"rejected: {reason}", f"called AE {called}")

    def _on_released(self, event: Event) -> None:
        peer = Peer.of(event)
        log.info("Association released by %s", peer)
        self.ctx.traffic(peer, "RELEASE", "released")

    def _on_aborted(self, event: Event) -> None:
        peer = Peer.of(event)
        log.warning("Association aborted with %s", peer)
        self.ctx.traffic(peer, "ABORT", "aborted")

    def _application_entity(self) -> AE:
        ae = AE(ae_title=self.settings.ae_title)
        ae.require_called_aet = True  # calling AE titles: self.gate (access list)
        guards.configure(ae, self.settings.limits)
        ae.maximum_pdu_size = MAX_PDU_SIZE
        for abstract in (
            Verification,
            ModalityPerformedProcedureStep,
            ModalityWorklistInformationFind,
        ):
            ae.add_supported_context(abstract, COMMAND_TRANSFER_SYNTAXES)
        # SCP for requests; SCU role too, so a peer may report commitment on a new association.
        ae.add_supported_context(
            StorageCommitmentPushModel, COMMAND_TRANSFER_SYNTAXES, scu_role=True, scp_role=True
        )
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cast(str, cx.abstract_syntax), STORAGE_TRANSFER_SYNTAXES)
        return ae

    def start(self, host: str | None = None, port: int | None = None) -> tuple[str, int]:
        """Listen (in the background); the actual address, e.g. when port 0 was asked."""
        address = (host or self.settings.bind_address, self.settings.port if port is None else port)
        permitted = self.gate.guard  # the access list's per-service permissions

        def answered(command: str, handler: Any) -> Any:
            return write_failures.answered(self.ctx, command, handler)

        handlers: list[Any] = [
            NODELAY_HANDLER,
            (evt.EVT_REQUESTED, self.gate.on_requested),
            (evt.EVT_ACCEPTED, self._on_accepted),
            (evt.EVT_REJECTED, self._on_rejected),
            (evt.EVT_RELEASED, self._on_released),
            (evt.EVT_ABORTED, self._on_aborted),
            (evt.EVT_C_ECHO, permitted("verification", faults.echo_handler(self.ctx), "status")),
            (
                evt.EVT_N_CREATE,
                permitted("mpps", answered("N-CREATE", self.mpps.on_create), "pair"),
            ),
            (evt.EVT_N_SET, permitted("mpps", answered("N-SET", self.mpps.on_set), "pair")),
            (evt.EVT_N_GET, permitted("mpps", answered("N-GET", self.mpps.on_get), "pair")),
            (evt.EVT_C_FIND, permitted("worklist", self.worklist.on_find, "yield")),
            (evt.EVT_C_STORE, permitted("storage", self.storage.on_store, "status")),
            (evt.EVT_N_ACTION, permitted("commitment", self.commitment.on_action, "pair")),
            (evt.EVT_N_EVENT_REPORT, self.commitment.on_event_report),
            (evt.EVT_DIMSE_SENT, self.commitment.on_dimse_sent),
            *self.guard.handlers,
            *faults.handlers(self.ctx),  # behaviour profile: injected faults
        ]
        files = self.settings.tls
        try:
            if files is not None and files.serves:
                server: ThreadedAssociationServer = tls.start_tls_server(
                    self._application_entity(),
                    address,
                    tls.server_context(files),
                    handlers,
                    self.refusals.handshake,
                )
            else:
                server = cast(
                    ThreadedAssociationServer,
                    self._application_entity().start_server(
                        address, block=False, evt_handlers=handlers
                    ),
                )
        except OSError as exc:
            raise UserError(
                f"cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}"
            ) from None
        share_contexts(server)
        self.storage.staged.start()
        self._server = server
        bound = server.server_address
        scheme = " (TLS)" if files is not None and files.serves else ""
        log.info("SCP %s listening on %s:%d%s", self.settings.ae_title, bound[0], bound[1], scheme)
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        """Stop listening and end every association, so that the process can exit."""
        if self._server is not None:
            server, self._server = self._server, None
            server.shutdown()
            _end_associations(server.active_associations, STOP_GRACE_S)
            self.storage.staged.stop()
            log.info("SCP stopped")


def _end_associations(associations: Sequence[Association], grace: float) -> None:
    """Abort established associations, then close whatever connection is still open.

    pynetdicom's DUL threads are not daemons, and ``server.shutdown()`` leaves
    connected peers alone: a peer that never sends an A-ASSOCIATE-RQ, or an idle
    association, holds the process for the idle timeout (60 s), and a peer that
    stopped in the middle of a PDU forever (the read blocks). SIGTERM must stop
    ``serve`` promptly (DESIGN.md §4).
    """
    for assoc in associations:
        if assoc.is_established:
            assoc.abort(block=False)  # the peer hears why the association ends
    deadline = time.monotonic() + grace
    for assoc in associations:
        assoc.dul.join(max(0.0, deadline - time.monotonic()))
    stuck = [assoc for assoc in associations if assoc.dul.is_alive()]
    for assoc in stuck:
        raw = raw_socket(assoc.dul)
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)  # wakes a blocked read; the DUL goes idle
    deadline = time.monotonic() + grace
    for assoc in stuck:
        while assoc.dul.is_alive() and not assoc.dul.stop_dul() and time.monotonic() < deadline:
            time.sleep(0.01)
        if assoc.dul.is_alive():
            log.warning(
                "Association with %s:%s did not end", assoc.requestor.address, assoc.requestor.port
            )
