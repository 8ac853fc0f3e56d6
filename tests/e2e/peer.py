"""A small, independent MPPS modality for the end-to-end tests.

Two kinds of peer: a well-behaved pynetdicom SCU (:func:`associate`,
:func:`create_step`, :func:`complete_step`) and hand-built PDUs for peers that
misbehave on the wire (:func:`associate_rq_pdu`, :func:`p_data_pdu`, ...).
The PDU bytes are assembled here from PS3.8 rather than by pynetdicom, so the
tests do not share the server's encoder.
"""

from __future__ import annotations

import datetime as dt
import socket
import struct
import subprocess
import uuid
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.dsutils import encode
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    CTImageStorage,
    ModalityPerformedProcedureStep,
    Verification,
)

from mppsconsole.net.sockets import NODELAY_HANDLER
from tests.conftest import dcmtk, dcmtk_env

LOOPBACK = "127.0.0.1"
SERVER_AE = "MPPSCONSOLE"
CALLING_AE = "E2E-MODALITY"
SUCCESS = 0x0000
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
MPPS_CLASS = str(ModalityPerformedProcedureStep)
IMPLICIT_LE = str(ImplicitVRLittleEndian)
TIMEOUT = 20.0
#: connection, ACSE and DIMSE timeouts of DCMTK tools, in seconds
DCMTK_TIMEOUTS = ("-to", "10", "-ta", "10", "-td", "10")


def new_uid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def echoscu(port: int, called: str = SERVER_AE) -> subprocess.CompletedProcess[str]:
    """DCMTK's echoscu, an independent peer, with every timeout bounded."""
    return subprocess.run(
        [dcmtk("echoscu"), *DCMTK_TIMEOUTS, "-aec", called, LOOPBACK, str(port)],
        capture_output=True,
        text=True,
        env=dcmtk_env(),
        timeout=30,
        check=False,
    )


# --- a well-behaved SCU --------------------------------------------------------


def _never_poll(assoc: Association) -> None:
    """Keep the requestor's reactor away from the response queue.

    pynetdicom 3.0.4's reactor can take a response off the queue before the
    waiting ``send_n_*`` call does and drop it (DESIGN.md §5, pynetdicom #875),
    which would make these tests flaky for a reason that is not the server's.
    This SCU never expects a request from the SCP, so the reactor's
    non-blocking polls get nothing and only the requesting call reads.
    """
    blocking_get = assoc.dimse.get_msg

    def get_msg(block: bool = False) -> Any:
        return blocking_get(block=True) if block else (None, None)

    assoc.dimse.get_msg = get_msg


def associate(port: int, *, calling_ae: str = CALLING_AE, host: str = LOOPBACK) -> Association:
    """An established association for MPPS and Verification, or AssertionError."""
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.connection_timeout = TIMEOUT
    ae.add_requested_context(ModalityPerformedProcedureStep)
    ae.add_requested_context(Verification)
    assoc = ae.associate(host, port, ae_title=SERVER_AE, evt_handlers=[NODELAY_HANDLER])
    if not assoc.is_established:
        raise AssertionError(f"association with {host}:{port} not established")
    _never_poll(assoc)
    return assoc


def drop(assoc: Association) -> None:
    """Abort and close, also when the server died under the association.

    After a connection reset pynetdicom may leave the socket open; close it so
    that no ResourceWarning (an error under this test suite) escapes.
    """
    assoc.abort()
    raw = getattr(assoc.dul.socket, "socket", None)
    if raw is not None:
        raw.close()


def create_dataset(
    *, patient_id: str = "E2E-1", accession: str = "ACC-E2E-1", patient_name: str = "Doe^Jane"
) -> Dataset:
    """An N-CREATE attribute list with every Type 1 attribute of Table F.7.2-1."""
    started = dt.datetime.now()
    scheduled = Dataset()
    scheduled.StudyInstanceUID = new_uid()
    scheduled.AccessionNumber = accession
    scheduled.RequestedProcedureID = "RP1"
    scheduled.ScheduledProcedureStepID = "SPS1"
    scheduled.RequestedProcedureDescription = "CT chest"
    scheduled.ScheduledProcedureStepDescription = "CT chest"
    scheduled.ReferencedStudySequence = Sequence()
    scheduled.ScheduledProtocolCodeSequence = Sequence()
    ds = Dataset()
    ds.ScheduledStepAttributesSequence = Sequence([scheduled])
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.ReferencedPatientSequence = Sequence()
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = CALLING_AE
    ds.PerformedStationName = "E2E"
    ds.PerformedLocation = ""
    ds.PerformedProcedureStepStartDate = started.strftime("%Y%m%d")
    ds.PerformedProcedureStepStartTime = started.strftime("%H%M%S")
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = "CT chest"
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = Sequence()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = "CT"
    ds.StudyID = "1"
    ds.PerformedProtocolCodeSequence = Sequence()
    ds.PerformedSeriesSequence = Sequence()
    return ds


def complete_dataset(images: int = 2) -> Dataset:
    """An N-SET modification list taking a step to COMPLETED with one series."""
    ended = dt.datetime.now()
    series = Dataset()
    series.SeriesInstanceUID = new_uid()
    series.ProtocolName = "CT chest"
    series.PerformingPhysicianName = ""
    series.OperatorsName = ""
    series.RetrieveAETitle = ""
    series.SeriesDescription = "axial"
    refs = []
    for _ in range(images):
        ref = Dataset()
        ref.ReferencedSOPClassUID = CTImageStorage
        ref.ReferencedSOPInstanceUID = new_uid()
        refs.append(ref)
    series.ReferencedImageSequence = Sequence(refs)
    series.ReferencedNonImageCompositeSOPInstanceSequence = Sequence()
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "COMPLETED"
    ds.PerformedProcedureStepEndDate = ended.strftime("%Y%m%d")
    ds.PerformedProcedureStepEndTime = ended.strftime("%H%M%S")
    ds.PerformedSeriesSequence = Sequence([series])
    return ds


def _status(reply: Any) -> int | None:
    """The DIMSE status of an N-* reply, None when no response arrived."""
    status = reply[0]
    return int(status.Status) if status is not None and "Status" in status else None


def create_step(assoc: Association, uid: str, **fields: str) -> int | None:
    return _status(assoc.send_n_create(create_dataset(**fields), MPPS_CLASS, uid))


def complete_step(assoc: Association, uid: str, images: int = 2) -> int | None:
    return _status(assoc.send_n_set(complete_dataset(images), MPPS_CLASS, uid))


def run_step(port: int, uid: str, **fields: str) -> tuple[int | None, int | None]:
    """One association: N-CREATE then N-SET COMPLETED; the two statuses."""
    assoc = associate(port)
    try:
        created = create_step(assoc, uid, **fields)
        completed = complete_step(assoc, uid) if created == SUCCESS else None
    finally:
        if assoc.is_established:
            assoc.release()
    return created, completed


# --- raw PDUs (PS3.8 9.3) ------------------------------------------------------


def _item(item_type: int, value: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(value)) + value


def pdu(pdu_type: int, body: bytes, length: int | None = None) -> bytes:
    return struct.pack(">BBL", pdu_type, 0, len(body) if length is None else length) + body


def _ae(title: str) -> bytes:
    return title.encode("ascii").ljust(16)


def associate_rq_pdu(
    abstract: str = MPPS_CLASS,
    called: str = SERVER_AE,
    calling: str = CALLING_AE,
    *,
    max_pdu: int = 16384,
    transfer_syntax: str = IMPLICIT_LE,
) -> bytes:
    """An A-ASSOCIATE-RQ proposing ``abstract`` as context 1 in ``transfer_syntax``."""
    context = (
        struct.pack(">BBBB", 1, 0, 0, 0)
        + _item(0x30, abstract.encode("ascii"))
        + _item(0x40, transfer_syntax.encode("ascii"))
    )
    user_info = _item(0x51, struct.pack(">L", max_pdu)) + _item(0x52, b"1.2.826.0.1.3680043.9.7")
    body = (
        struct.pack(">HH", 1, 0)
        + _ae(called)
        + _ae(calling)
        + bytes(32)
        + _item(0x10, APPLICATION_CONTEXT.encode("ascii"))
        + _item(0x20, context)
        + _item(0x50, user_info)
    )
    return pdu(0x01, body)


def p_data_pdu(fragment: bytes, *, command: bool, last: bool, context_id: int = 1) -> bytes:
    """A P-DATA-TF with one PDV (message control header bit 0: command, bit 1: last)."""
    header = (0x01 if command else 0x00) | (0x02 if last else 0x00)
    pdv = struct.pack(">LBB", len(fragment) + 2, context_id, header) + fragment
    return pdu(0x04, pdv)


def a_abort_pdu() -> bytes:
    return pdu(0x07, bytes([0, 0, 0, 0]))


def n_create_command(uid: str, message_id: int = 1) -> bytes:
    """The command set of an N-CREATE-RQ with a data set, Implicit VR Little Endian."""
    cmd = Dataset()
    cmd.AffectedSOPClassUID = MPPS_CLASS
    cmd.CommandField = 0x0140
    cmd.MessageID = message_id
    cmd.CommandDataSetType = 0x0001
    cmd.AffectedSOPInstanceUID = uid
    body = encode(cmd, True, True)
    assert body is not None
    group_length = Dataset()
    group_length.CommandGroupLength = len(body)
    head = encode(group_length, True, True)
    assert head is not None
    return head + body


def n_create_dataset_bytes() -> bytes:
    encoded = encode(create_dataset(), True, True)
    assert encoded is not None
    return encoded


def recv_pdu(sock: socket.socket) -> tuple[int, bytes]:
    """The next PDU's type and body (bounded by the socket's timeout)."""
    header = _recv_exactly(sock, 6)
    pdu_type, _, length = struct.unpack(">BBL", header)
    return pdu_type, _recv_exactly(sock, length)


def _recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {count} bytes")
        data += chunk
    return bytes(data)


def raw_connection(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
