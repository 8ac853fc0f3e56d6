"""Storage Commitment Push Model SCP: N-ACTION, then N-EVENT-REPORT.

The report goes out after the N-ACTION response has been sent (a peer may not
expect it earlier), on the same association while it is open, otherwise on a
new association to the requester's node from the settings.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import AE, build_role
from pynetdicom.association import Association
from pynetdicom.dimse_messages import N_ACTION_RSP
from pynetdicom.events import Event
from pynetdicom.pdu_primitives import A_RELEASE
from pynetdicom.sop_class import StorageCommitmentPushModel  # type: ignore[attr-defined]

from mppsconsole.core.events import Subject
from mppsconsole.net import faults, tls
from mppsconsole.net.incoming import request_dataset
from mppsconsole.net.scp_context import Peer, ScpContext, now
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.net.status import (
    NO_SUCH_OBJECT_INSTANCE,
    PROCESSING_FAILURE,
    SUCCESS,
    status_dataset,
)
from mppsconsole.store import commitments, instances
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)

#: The well-known SOP Instance of the Storage Commitment Push Model (PS3.4 J.3.5).
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"
REQUEST_COMMITMENT = 1
ALL_COMMITTED = 1
SOME_FAILED = 2
#: Failure Reason for an instance the SCP classifies as not held (PS3.4 J.3.3.1).
CLASS_INSTANCE_CONFLICT = 0x0119
#: How often a report waiting on the requester's association looks for a release request.
RELEASE_POLL_S = 0.005


def _secure(path: Path) -> bool:
    """True when the file exists and is on disk: commitment promises safekeeping."""
    try:
        with path.open("rb") as f:
            os.fsync(f.fileno())
    except OSError:
        return False
    return True


def event_report(conn_held: dict[str, instances.Instance], request: Dataset) -> tuple[int, Dataset]:
    """(Event Type ID, event information) for a commitment request."""
    report = Dataset()
    report.TransactionUID = request.TransactionUID
    committed, failed = Sequence(), Sequence()
    for ref in request.get("ReferencedSOPSequence") or []:
        item = Dataset()
        item.ReferencedSOPClassUID = ref.get("ReferencedSOPClassUID", "")
        item.ReferencedSOPInstanceUID = ref.get("ReferencedSOPInstanceUID", "")
        held = conn_held.get(str(item.ReferencedSOPInstanceUID))
        if held is not None and held.sop_class_uid == str(item.ReferencedSOPClassUID):
            committed.append(item)
        else:
            item.FailureReason = (
                NO_SUCH_OBJECT_INSTANCE if held is None else CLASS_INSTANCE_CONFLICT
            )
            failed.append(item)
    report.ReferencedSOPSequence = committed
    if failed:
        report.FailedSOPSequence = failed
    return (SOME_FAILED if failed else ALL_COMMITTED), report


def record_report(db: Database, event: Event) -> int:
    """Store an incoming commitment N-EVENT-REPORT against the request we sent.

    Used by our SCU on its own association and by our SCP when the peer reports
    on a new association; the answer is the N-EVENT-REPORT response status.
    """
    try:
        info = event.event_information
        transaction_uid = str(info.TransactionUID)
        committed = [
            [str(r.ReferencedSOPClassUID), str(r.ReferencedSOPInstanceUID)]
            for r in info.get("ReferencedSOPSequence") or []
        ]
        failed = [
            [
                str(r.ReferencedSOPClassUID),
                str(r.ReferencedSOPInstanceUID),
                f"0x{int(r.get('FailureReason', 0x0110)):04X}",
            ]
            for r in info.get("FailedSOPSequence") or []
        ]
    except Exception as exc:  # a malformed report is the peer's fault
        log.warning("unreadable storage commitment report from %s: %s", Peer.of(event), exc)
        return PROCESSING_FAILURE
    with db.transaction() as conn:
        known = commitments.record_answer(conn, transaction_uid, committed, failed, now())
    if not known:
        log.warning(
            "storage commitment report for unknown transaction %s from %s",
            transaction_uid,
            Peer.of(event),
        )
        return PROCESSING_FAILURE
    log.info(
        "storage commitment %s: %d committed, %d failed",
        transaction_uid,
        len(committed),
        len(failed),
    )
    return SUCCESS


class CommitmentScp:
    def __init__(self, context: ScpContext) -> None:
        self.ctx = context
        self._pending: dict[int, tuple[Peer, int, Dataset]] = {}
        self._lock = threading.Lock()

    def on_action(self, event: Event) -> tuple[Dataset, Dataset | None]:
        peer = Peer.of(event)
        injected = faults.inject(self.ctx, "commitment", event)
        if injected.status is not None:
            return injected.status, None
        if event.action_type != REQUEST_COMMITMENT:
            return status_dataset(0x0123, "Unsupported Action Type ID"), None
        try:
            request = request_dataset(event, "action_information")
            uids = [str(ref.ReferencedSOPInstanceUID) for ref in request.ReferencedSOPSequence]
            str(request.TransactionUID)
        except Exception as exc:
            return status_dataset(0x0110, f"Cannot read commitment request: {exc}"), None
        with self.ctx.db.reading() as conn:
            held = instances.held(conn, uids)
        held = {uid: i for uid, i in held.items() if _secure(Path(i.path))}
        self.ctx.db.flush()
        event_type, report = event_report(held, request)
        log.info(
            "N-ACTION storage commitment from %s: %d of %d held",
            peer,
            len(report.ReferencedSOPSequence),
            len(uids),
        )
        if not injected.drop_report:
            with self._lock:
                self._pending[id(event.assoc)] = (peer, event_type, report)
        self.ctx.traffic(
            peer,
            "N-ACTION",
            "0x0000",
            f"commitment {len(report.ReferencedSOPSequence)} of {len(uids)} held",
            Subject(StorageCommitmentPushModel, str(request.TransactionUID)),
        )
        return status_dataset(SUCCESS), None

    def on_event_report(self, event: Event) -> tuple[int, None]:
        """A peer reports on a new association for a request our SCU sent."""
        status = record_report(self.ctx.db, event)
        self.ctx.traffic(
            Peer.of(event),
            "N-EVENT-REPORT",
            f"0x{status:04X}",
            "commitment report",
            Subject(StorageCommitmentPushModel),
        )
        return status, None

    def on_dimse_sent(self, event: Event) -> None:
        """Once the N-ACTION response is on its way, send the pending report."""
        if not isinstance(event.message, N_ACTION_RSP):
            return
        with self._lock:
            pending = self._pending.pop(id(event.assoc), None)
        if pending is not None:
            threading.Thread(
                target=self._send_report,
                args=(event.assoc, *pending),
                daemon=True,
                name="commitment-report",
            ).start()

    def _send_report(
        self, assoc: Association, peer: Peer, event_type: int, report: Dataset
    ) -> None:
        try:
            _wait_until_response_queued(assoc)
            if assoc.is_established and _send_on_same_association(assoc, event_type, report):
                log.info("N-EVENT-REPORT commitment to %s sent", peer)
                return
            self._send_on_new_association(peer, event_type, report)
        except Exception:
            log.exception("N-EVENT-REPORT commitment to %s failed", peer)

    def _send_on_new_association(self, peer: Peer, event_type: int, report: Dataset) -> None:
        node = self.ctx.settings.node_for_ae(peer.ae_title)
        if node is None:
            log.error(
                "Storage commitment report for %s not delivered: association closed and no "
                "node with AE title %s in the settings",
                peer,
                peer.ae_title,
            )
            return
        ae = AE(ae_title=self.ctx.settings.ae_title)
        ae.add_requested_context(StorageCommitmentPushModel)
        role = build_role(StorageCommitmentPushModel, scp_role=True)
        assoc = ae.associate(
            node.host,
            node.port,
            ae_title=node.ae_title,
            ext_neg=[role],
            evt_handlers=[NODELAY_HANDLER],
            tls_args=tls.client_args(node),
        )
        if not assoc.is_established:
            log.error("Storage commitment report: cannot associate with %s", node.name)
            return
        try:
            status, _ = assoc.send_n_event_report(
                report, event_type, StorageCommitmentPushModel, STORAGE_COMMITMENT_INSTANCE
            )
            log.info(
                "N-EVENT-REPORT commitment to %s on a new association: %s",
                node.name,
                f"0x{status.Status:04X}" if status else "no response",
            )
        finally:
            assoc.release()


def _wait_until_response_queued(assoc: Association) -> None:
    """Return once the N-ACTION response is queued for the wire, ahead of our report.

    EVT_DIMSE_SENT fires before the response's PDUs are queued, while the
    reactor is still serving the N-ACTION (``_is_paused`` stays True all that
    time), and pynetdicom's send methods take that for a paused reactor: a
    report sent at once overtook the response about one time in four. The
    reactor clears the flag as soon as it has served the request.
    """
    while assoc._is_paused and assoc.is_established:
        time.sleep(0.0001)


def _send_on_same_association(assoc: Association, event_type: int, report: Dataset) -> bool:
    """True when the requester acknowledged the report on its own association."""
    done = threading.Event()
    threading.Thread(
        target=_end_wait_on_release,
        args=(assoc, done),
        daemon=True,
        name="commitment-release-watch",
    ).start()
    try:
        status, _ = assoc.send_n_event_report(
            report, event_type, StorageCommitmentPushModel, STORAGE_COMMITMENT_INSTANCE
        )
    except RuntimeError:  # released between our check and the send
        return False
    finally:
        done.set()
    return bool(status) and status.Status == SUCCESS


def _end_wait_on_release(assoc: Association, done: threading.Event) -> None:
    """Let a release that crosses our report be answered, and stop waiting for its response.

    A requester often releases right after the N-ACTION response. If its
    A-RELEASE-RQ crosses our N-EVENT-REPORT, it ignores the report (it awaits
    the release response, PS3.8), while pynetdicom's reactor stays paused for
    as long as send_n_event_report waits for a response: the release would go
    unanswered until a timeout aborts the association, and the report would be
    late by as much. Here the reactor is resumed to answer the release, then the
    wait ends with no response, so the report goes out on a new association.
    """
    paused_polls = 0
    while not done.wait(RELEASE_POLL_S):
        if not assoc.is_established:
            assoc.dimse.msg_queue.put((None, None))  # ends the wait for a response
            return
        # Resume the reactor only once the sender has seen it paused (and sent the
        # report), never while the sender still waits for the pause, and never
        # with a response queued for the sender to take.
        paused_polls = paused_polls + 1 if assoc._is_paused else 0
        primitive = assoc.dul.peek_next_pdu()
        if (
            paused_polls >= 2
            and isinstance(primitive, A_RELEASE)
            and primitive.result is None
            and assoc.dimse.msg_queue.empty()
        ):
            assoc._reactor_checkpoint.set()  # the reactor answers the release
