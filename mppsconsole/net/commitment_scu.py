"""Storage Commitment Push Model as SCU (IHE RAD-10): ask, then wait for the report.

The report may come back on the same association (we keep it open and answer
the N-EVENT-REPORT) or on a new association to our own SCP, which records it
in the store; either way the answer lands in the ``commitments`` table, and the
caller waits (bounded) for that row to be answered.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence

from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.dimse_messages import N_EVENT_REPORT_RSP
from pynetdicom.events import Event
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import StorageCommitmentPushModel  # type: ignore[attr-defined]

from mppsconsole.core.errors import PeerError
from mppsconsole.core.settings import Node
from mppsconsole.core.worklist import new_uid
from mppsconsole.net.association import DIMSE_TIMEOUT, associate, check_response
from mppsconsole.net.commitment_scp import STORAGE_COMMITMENT_INSTANCE, record_report
from mppsconsole.net.datasets import sop_references
from mppsconsole.net.scp_context import now
from mppsconsole.net.status import describe, is_success
from mppsconsole.store import commitments
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)

DEFAULT_WAIT = 30.0
_POLL = 0.05


@dataclasses.dataclass(frozen=True)
class CommitRequest:
    transaction_uid: str
    references: tuple[tuple[str, str], ...]  # (SOP Class UID, SOP Instance UID)


def action_information(request: CommitRequest) -> Dataset:
    ds = Dataset()
    ds.TransactionUID = request.transaction_uid
    ds.ReferencedSOPSequence = sop_references(request.references)
    return ds


def request_commitment(
    db: Database,
    local_ae_title: str,
    node: Node,
    references: Sequence[tuple[str, str]],
    *,
    step_uid: str | None,
    wait: float = DEFAULT_WAIT,
) -> commitments.Commitment:
    """Send N-ACTION for ``references`` and return the answered commitment.

    PeerError when the request is refused or no report arrives within ``wait``
    seconds (the request then stays 'pending' in the store; a later report to
    our SCP still completes it).
    """
    request = CommitRequest(new_uid(), tuple(references))

    reported_here = threading.Event()
    response_sent = threading.Event()

    def on_report(event: Event) -> tuple[int, None]:
        reported_here.set()
        # pynetdicom wants (status, reply dataset) from an N-EVENT-REPORT handler; a
        # bare status makes it abort the association right after the report.
        return record_report(db, event), None

    def on_sent(event: Event) -> None:
        if isinstance(event.message, N_EVENT_REPORT_RSP):
            response_sent.set()

    deadline = time.monotonic() + wait
    with associate(
        local_ae_title,
        node,
        [build_context(StorageCommitmentPushModel)],
        required=[StorageCommitmentPushModel],
        ext_neg=[build_role(StorageCommitmentPushModel, scu_role=True, scp_role=True)],
        handlers=[(evt.EVT_N_EVENT_REPORT, on_report), (evt.EVT_DIMSE_SENT, on_sent)],
    ) as assoc:
        # Recorded only once the peer is reachable (a request never sent is not
        # pending), and before the N-ACTION, so that the report finds its row.
        with db.transaction() as conn:
            commitments.create(conn, request.transaction_uid, step_uid, node.name, now())
        status, _ = assoc.send_n_action(
            action_information(request), 1, StorageCommitmentPushModel, STORAGE_COMMITMENT_INSTANCE
        )
        code = check_response(status, "N-ACTION", node)
        if not is_success(code):
            raise PeerError(f"storage commitment refused by {node.ae_title}: {describe(status)}")
        answer = _wait_for_answer(
            db, request.transaction_uid, deadline, lambda: bool(assoc.is_established)
        )
        if reported_here.is_set():
            # The answer is stored before the handler returns, so it can show up
            # before pynetdicom has queued the N-EVENT-REPORT response. Releasing
            # then would put the release ahead of the response: pynetdicom's DUL
            # thread dies on the late response and the peer waits for it in vain.
            response_sent.wait(max(0.0, min(deadline - time.monotonic(), DIMSE_TIMEOUT)))
    if answer is None:
        # The peer may have closed the association and report on a new one to our SCP.
        answer = _wait_for_answer(db, request.transaction_uid, deadline, lambda: True)
    if answer is None:
        raise PeerError(
            f"no storage commitment report from {node.ae_title} within {wait:.0f} s "
            f"(transaction {request.transaction_uid} stays pending)"
        )
    return answer


def _wait_for_answer(
    db: Database, transaction_uid: str, deadline: float, keep_waiting: Callable[[], bool]
) -> commitments.Commitment | None:
    """Poll the store until answered, the deadline passes, or ``keep_waiting`` says stop."""
    while time.monotonic() < deadline:
        with db.reading() as conn:
            found = commitments.get(conn, transaction_uid)
        if found is not None and found.state != commitments.PENDING:
            return found
        if not keep_waiting():
            return None
        time.sleep(_POLL)
    return None
