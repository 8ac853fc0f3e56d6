"""The department node: one pynetdicom AE serving every SCP of the console."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

from pydicom import uid
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole.core.errors import UserError
from mppsconsole.core.settings import Settings
from mppsconsole.net.commitment_scp import CommitmentScp
from mppsconsole.net.mpps_scp import MppsScp
from mppsconsole.net.mwl_scp import WorklistScp
from mppsconsole.net.reactor_guard import guard_responses
from mppsconsole.net.scp_context import Peer, ScpContext
from mppsconsole.net.sockets import NODELAY_HANDLER
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
MAX_ASSOCIATIONS = 64


def _on_accepted(event: Event) -> None:
    guard_responses(event.assoc)
    log.info("Association accepted from %s", Peer.of(event))


def _log_rejected(event: Event) -> None:
    primitive = event.assoc.acceptor.primitive
    called = (
        event.assoc.requestor.primitive.called_ae_title if event.assoc.requestor.primitive else ""
    )
    reason = getattr(primitive, "reason_str", "") if primitive else ""
    log.warning("Association rejected from %s (called AE %s): %s", Peer.of(event), called, reason)


def _log_released(event: Event) -> None:
    log.info("Association released by %s", Peer.of(event))


def _log_aborted(event: Event) -> None:
    log.warning("Association aborted with %s", Peer.of(event))


class DepartmentServer:
    """Verification, MPPS, worklist, storage and storage commitment SCPs on one port."""

    def __init__(self, db: Database, settings: Settings, images_dir: Path) -> None:
        self.settings = settings
        context = ScpContext(db=db, settings=settings, images_dir=images_dir)
        self.mpps = MppsScp(context)
        self.worklist = WorklistScp(context)
        self.storage = StorageScp(context)
        self.commitment = CommitmentScp(context)
        self._server: ThreadedAssociationServer | None = None

    def _application_entity(self) -> AE:
        ae = AE(ae_title=self.settings.ae_title)
        ae.require_called_aet = True
        ae.require_calling_aet = list(self.settings.allowed_calling_aets)
        ae.maximum_associations = MAX_ASSOCIATIONS
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
        handlers: list[Any] = [
            NODELAY_HANDLER,
            (evt.EVT_ACCEPTED, _on_accepted),
            (evt.EVT_REJECTED, _log_rejected),
            (evt.EVT_RELEASED, _log_released),
            (evt.EVT_ABORTED, _log_aborted),
            (evt.EVT_N_CREATE, self.mpps.on_create),
            (evt.EVT_N_SET, self.mpps.on_set),
            (evt.EVT_N_GET, self.mpps.on_get),
            (evt.EVT_C_FIND, self.worklist.on_find),
            (evt.EVT_C_STORE, self.storage.on_store),
            (evt.EVT_N_ACTION, self.commitment.on_action),
            (evt.EVT_N_EVENT_REPORT, self.commitment.on_event_report),
            (evt.EVT_DIMSE_SENT, self.commitment.on_dimse_sent),
        ]
        try:
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
        self._server = server
        bound = server.server_address
        log.info("SCP %s listening on %s:%d", self.settings.ae_title, bound[0], bound[1])
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
            log.info("SCP stopped")
