"""Storage Commitment Push Model SCP (DESIGN.md §1, §3): N-ACTION answered by N-EVENT-REPORT.

The report comes on the requesting association while it is open, otherwise on a
new association to the node the settings give for the requester's AE title.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.dimse_messages import N_ACTION_RSP, N_EVENT_REPORT_RQ, N_EVENT_REPORT_RSP
from pynetdicom.events import Event
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
)
from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole.core.settings import Node, Settings
from mppsconsole.net.sockets import NODELAY_HANDLER
from tests.conftest import LOOPBACK, RunningServer, wait_until
from tests.network.conftest import TIMEOUT, associate, ct_image, settings

#: The well-known SOP Instance of the Storage Commitment Push Model (PS3.4 J.3.5).
COMMITMENT_INSTANCE = StorageCommitmentPushModelInstance
REQUEST_COMMITMENT = 1
ALL_COMMITTED, SOME_FAILED = 1, 2
NO_SUCH_OBJECT_INSTANCE = 0x0112
REQUESTER_AE = "COMMITSCU"


class Reports:
    """Collects N-EVENT-REPORT requests (answered Success) from any thread."""

    def __init__(self) -> None:
        self.received: list[tuple[int, Dataset, str]] = []
        self.answered = 0
        self._answering = 0
        self._lock = threading.Lock()

    def on_event_report(self, event: Event) -> tuple[int, None]:
        info = event.event_information
        with self._lock:
            self.received.append((int(event.event_type), info, str(event.assoc.mode)))
        return 0x0000, None

    def _on_dimse_sent(self, event: Event) -> None:
        if isinstance(event.message, N_EVENT_REPORT_RSP):
            with self._lock:
                self._answering += 1

    def _on_pdu_sent(self, event: Event) -> None:
        # EVT_DIMSE_SENT fires before the response is queued; the next P-DATA
        # written after it is the (one-PDU) response itself.
        if isinstance(event.pdu, P_DATA_TF):
            with self._lock:
                if self._answering:
                    self._answering -= 1
                    self.answered += 1

    @property
    def handlers(self) -> list[tuple[Any, Any]]:
        return [
            (evt.EVT_N_EVENT_REPORT, self.on_event_report),
            (evt.EVT_DIMSE_SENT, self._on_dimse_sent),
            (evt.EVT_PDU_SENT, self._on_pdu_sent),
        ]

    def wait(self, count: int = 1) -> bool:
        """Wait until ``count`` reports are answered on the wire, and a little more.

        Releasing earlier would make pynetdicom send the answer after its
        A-RELEASE-RQ (Evt9 in Sta7). pynetdicom serves N-EVENT-REPORT on a
        thread of its own, which clears the reactor's ``_is_paused`` flag just
        after queueing the answer; a release() caught between would wait for
        the flag for ever. The pause lets that thread finish first.
        """
        answered = wait_until(lambda: self.answered >= count, timeout=TIMEOUT)
        time.sleep(0.05)
        return answered


def _reference(ds: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    return ref


def _request(transaction: str, *refs: Dataset) -> Dataset:
    info = Dataset()
    info.TransactionUID = transaction
    info.ReferencedSOPSequence = DicomSequence(list(refs))
    return info


def _unknown_reference() -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = generate_uid()
    return ref


def _uids(seq: Any) -> list[str]:
    return sorted(str(item.ReferencedSOPInstanceUID) for item in seq or [])


def test_report_on_the_same_association(scp: RunningServer) -> None:
    reports = Reports()
    images = [ct_image(), ct_image()]
    unknown = _unknown_reference()
    transaction = generate_uid()
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        ae_title=REQUESTER_AE,
        evt_handlers=reports.handlers,
    ) as assoc:
        for image in images:
            assert assoc.send_c_store(image).Status == 0x0000
        request = _request(transaction, *map(_reference, images), unknown)
        status, _ = assoc.send_n_action(
            request, REQUEST_COMMITMENT, StorageCommitmentPushModel, COMMITMENT_INSTANCE
        )
        assert status.Status == 0x0000
        assert reports.wait(), "no N-EVENT-REPORT on the open association"

    ((event_type, info, mode),) = reports.received
    assert mode == "requestor"  # it came over our own association
    assert event_type == SOME_FAILED
    assert info.TransactionUID == transaction
    assert _uids(info.ReferencedSOPSequence) == sorted(i.SOPInstanceUID for i in images)
    for item in info.ReferencedSOPSequence:
        assert item.ReferencedSOPClassUID == CTImageStorage
    (failed,) = info.FailedSOPSequence
    assert failed.ReferencedSOPInstanceUID == unknown.ReferencedSOPInstanceUID
    assert failed.ReferencedSOPClassUID == CTImageStorage
    assert failed.FailureReason == NO_SUCH_OBJECT_INSTANCE


def test_all_held_reports_event_type_1(scp: RunningServer) -> None:
    reports = Reports()
    image = ct_image()
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        ae_title=REQUESTER_AE,
        evt_handlers=reports.handlers,
    ) as assoc:
        assert assoc.send_c_store(image).Status == 0x0000
        status, _ = assoc.send_n_action(
            _request(generate_uid(), _reference(image)),
            REQUEST_COMMITMENT,
            StorageCommitmentPushModel,
            COMMITMENT_INSTANCE,
        )
        assert status.Status == 0x0000
        assert reports.wait()
    ((event_type, info, _),) = reports.received
    assert event_type == ALL_COMMITTED
    assert _uids(info.ReferencedSOPSequence) == [image.SOPInstanceUID]
    assert "FailedSOPSequence" not in info


def test_report_follows_the_action_response(scp: RunningServer) -> None:
    """The report never overtakes the N-ACTION response on the wire (the requester
    may not know the transaction before the response)."""
    order: list[str] = []
    reports = Reports()

    def on_recv(event: Event) -> None:
        if isinstance(event.message, N_ACTION_RSP | N_EVENT_REPORT_RQ):
            order.append(type(event.message).__name__)

    image = ct_image()
    rounds = 20
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        ae_title=REQUESTER_AE,
        evt_handlers=[*reports.handlers, (evt.EVT_DIMSE_RECV, on_recv)],
    ) as assoc:
        assert assoc.send_c_store(image).Status == 0x0000
        for n in range(1, rounds + 1):
            status, _ = assoc.send_n_action(
                _request(generate_uid(), _reference(image)),
                REQUEST_COMMITMENT,
                StorageCommitmentPushModel,
                COMMITMENT_INSTANCE,
            )
            assert status.Status == 0x0000
            assert reports.wait(n)
    assert order == ["N_ACTION_RSP", "N_EVENT_REPORT_RQ"] * rounds


class Receiver:
    """A small pynetdicom node that accepts storage commitment reports (SCU role)."""

    def __init__(self) -> None:
        self.reports = Reports()
        self.ae = AE(ae_title=REQUESTER_AE)
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = TIMEOUT
        # The department node asks to act as the SCP of the SOP class on this association.
        self.ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
        self.server: ThreadedAssociationServer = self.ae.start_server(
            (LOOPBACK, 0),
            block=False,
            evt_handlers=[NODELAY_HANDLER, *self.reports.handlers],
        )
        self.port = int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    node = Receiver()
    yield node
    node.stop()


@pytest.fixture
def scp_settings(receiver: Receiver) -> Settings:
    return settings(
        nodes=(
            Node("self", "MPPSCONSOLE", LOOPBACK, 0),
            Node("modality", REQUESTER_AE, LOOPBACK, receiver.port),
        )
    )


def _slow_reports(scp: RunningServer, monkeypatch: pytest.MonkeyPatch, delay: float) -> None:
    """Hold each report back ``delay`` s after the N-ACTION response (a busy SCP)."""
    commitment = scp.server.commitment
    send = commitment._send_report

    def later(*args: Any) -> None:
        time.sleep(delay)
        send(*args)

    monkeypatch.setattr(commitment, "_send_report", later)


def test_report_after_release_goes_to_the_configured_node(
    scp: RunningServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The requester releases at once and is gone before the report is ready.

    The department node opens a new association to the node the settings give
    for the requester's AE title, proposing the SCP role of the SOP class.
    """
    _slow_reports(scp, monkeypatch, 0.3)
    requestor_reports = Reports()
    images = [ct_image(), ct_image()]
    unknown = _unknown_reference()
    transaction = generate_uid()
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        ae_title=REQUESTER_AE,
        evt_handlers=requestor_reports.handlers,
    ) as assoc:
        for image in images:
            assert assoc.send_c_store(image).Status == 0x0000
        status, _ = assoc.send_n_action(
            _request(transaction, *map(_reference, images), unknown),
            REQUEST_COMMITMENT,
            StorageCommitmentPushModel,
            COMMITMENT_INSTANCE,
        )
        assert status.Status == 0x0000
        assoc.release()  # at once
        assert assoc.is_released

    assert receiver.reports.wait(), "no N-EVENT-REPORT delivered to the configured node"
    ((event_type, info, mode),) = receiver.reports.received
    assert mode == "acceptor"  # the department node called us
    assert event_type == SOME_FAILED
    assert info.TransactionUID == transaction
    assert _uids(info.ReferencedSOPSequence) == sorted(i.SOPInstanceUID for i in images)
    (failed,) = info.FailedSOPSequence
    assert failed.ReferencedSOPInstanceUID == unknown.ReferencedSOPInstanceUID
    assert failed.FailureReason == NO_SUCH_OBJECT_INSTANCE
    assert requestor_reports.received == []


class ReleasingRequester:
    """Requester behaviour: release as soon as the report is on the wire, never answer it.

    pynetdicom ignores requests once it has sent A-RELEASE-RQ; setting that flag
    as the N-ACTION response is decoded (the report follows it on the wire)
    makes the requester ignore the report every time. Otherwise its reactor may
    begin to serve the report and answer it after the A-RELEASE-RQ, an event
    pynetdicom's own state machine rejects (Evt9 in Sta7).
    """

    def __init__(self) -> None:
        self.report_arrived = threading.Event()

    def _on_recv(self, event: Event) -> None:
        if isinstance(event.message, N_ACTION_RSP):
            event.assoc._sent_release = True
        elif isinstance(event.message, N_EVENT_REPORT_RQ):
            self.report_arrived.set()

    @property
    def handler(self) -> tuple[Any, Any]:
        return (evt.EVT_DIMSE_RECV, self._on_recv)


@pytest.mark.parametrize("attempt", range(3))
def test_release_crossing_the_report_is_answered_and_report_goes_to_the_node(
    scp: RunningServer, receiver: Receiver, attempt: int
) -> None:
    """A release that crosses the report on the wire is still a clean, prompt release.

    The requester ignores the report that arrives while it awaits the release
    response (PS3.8), so the report must go out on a new association, without
    the release waiting for a DIMSE timeout and ending in an abort.
    """
    requester = ReleasingRequester()
    requestor_reports = Reports()
    image = ct_image()
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        ae_title=REQUESTER_AE,
        evt_handlers=[*requestor_reports.handlers, requester.handler],
    ) as assoc:
        assert assoc.send_c_store(image).Status == 0x0000
        status, _ = assoc.send_n_action(
            _request(generate_uid(), _reference(image)),
            REQUEST_COMMITMENT,
            StorageCommitmentPushModel,
            COMMITMENT_INSTANCE,
        )
        assert status.Status == 0x0000
        assert requester.report_arrived.wait(TIMEOUT), "no report on the open association"
        started = time.monotonic()
        assoc.release()
        released_in = time.monotonic() - started
        assert assoc.is_released and not assoc.is_aborted
    assert released_in < 2, f"release took {released_in:.1f} s"
    assert receiver.reports.wait(), "no N-EVENT-REPORT delivered to the configured node"
    time.sleep(0.2)  # a second, duplicate delivery would arrive by now
    assert len(receiver.reports.received) == 1
    assert requestor_reports.received == []
