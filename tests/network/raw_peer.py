"""A peer that speaks DIMSE in hand-built PDUs, to send what pynetdicom would refuse to encode.

Command sets are encoded by pydicom (Implicit VR Little Endian, PS3.7 6.3.1);
data sets are whatever bytes a test gives, so wrong VRs, lengths past the end
or a thousand nested sequences reach the server exactly as written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import struct
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.dsutils import decode, encode

from tests.e2e import peer

EXPLICIT_LE = str(ExplicitVRLittleEndian)
N_CREATE_RQ = 0x0140
N_SET_RQ = 0x0120
N_GET_RQ = 0x0110
C_FIND_RQ = 0x0020
NO_DATA_SET = 0x0101
#: Data set fragments we send: well below any maximum PDU the server announces.
FRAGMENT = 16000


def command_bytes(**fields: Any) -> bytes:
    """A command set with its group length, from keyword=value pairs."""
    cmd = Dataset()
    for keyword, value in fields.items():
        setattr(cmd, keyword, value)
    body = encode(cmd, True, True)
    assert body is not None
    length = Dataset()
    length.CommandGroupLength = len(body)
    head = encode(length, True, True)
    assert head is not None
    return head + body


def element(group: int, elem: int, vr: str, value: bytes, length: int | None = None) -> bytes:
    """One Explicit VR Little Endian element; ``length`` may lie about the value."""
    size = len(value) if length is None else length
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR"):
        return struct.pack("<HH2sHL", group, elem, vr.encode(), 0, size) + value
    return struct.pack("<HH2sH", group, elem, vr.encode(), size) + value


def nested_sequences(depth: int, group: int = 0x0040, elem: int = 0x0270) -> bytes:
    """A sequence holding a sequence ... ``depth`` deep (undefined lengths, Explicit VR)."""
    inner = b""
    for _ in range(depth):
        item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + inner
        item += struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
        inner = struct.pack("<HH2sHL", group, elem, b"SQ", 0, 0xFFFFFFFF) + item
        inner += struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    return inner


def encoded(ds: Dataset) -> bytes:
    """``ds`` in Explicit VR Little Endian."""
    data = encode(ds, False, True)
    assert data is not None
    return data


@dataclasses.dataclass
class Reply:
    """What came back: a response command set (and data set), or an A-ABORT / a close."""

    command: Dataset | None = None
    data: bytes = b""
    aborted: bool = False
    closed: bool = False
    pdu_lengths: list[int] = dataclasses.field(default_factory=list)

    @property
    def status(self) -> int | None:
        return int(self.command.Status) if self.command is not None else None

    @property
    def comment(self) -> str:
        return str(self.command.get("ErrorComment", "")) if self.command is not None else ""


class RawAssociation:
    """An association opened with a raw A-ASSOCIATE-RQ on one presentation context."""

    def __init__(
        self,
        port: int,
        abstract: str,
        *,
        transfer_syntax: str = EXPLICIT_LE,
        max_pdu: int = 16384,
        called: str = peer.SERVER_AE,
    ) -> None:
        self.sock = peer.raw_connection(port)
        self.sock.sendall(
            peer.associate_rq_pdu(
                abstract, called, max_pdu=max_pdu, transfer_syntax=transfer_syntax
            )
        )
        pdu_type, body = peer.recv_pdu(self.sock)
        if pdu_type != 0x02:
            self.sock.close()
            raise AssertionError(f"A-ASSOCIATE-AC expected, got PDU type {pdu_type:#x}")
        self.accept = body

    def send(self, command: bytes, data: bytes | None) -> None:
        self.sock.sendall(peer.p_data_pdu(command, command=True, last=True))
        if data is None:
            return
        chunks = [data[i : i + FRAGMENT] for i in range(0, len(data), FRAGMENT)] or [b""]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            self.sock.sendall(peer.p_data_pdu(chunk, command=False, last=last))

    def receive(self) -> Reply:
        """The next response message (command and data set), or how the server ended."""
        reply = Reply()
        command = io.BytesIO()
        data = io.BytesIO()
        while True:
            try:
                pdu_type, body = peer.recv_pdu(self.sock)
            except (ConnectionError, TimeoutError, OSError):
                reply.closed = True
                return reply
            reply.pdu_lengths.append(len(body))
            if pdu_type == 0x07:
                reply.aborted = True
                return reply
            assert pdu_type == 0x04, f"unexpected PDU type {pdu_type:#x}"
            at = 0
            while at < len(body):
                (length,) = struct.unpack(">L", body[at : at + 4])
                header = body[at + 5]
                fragment = body[at + 6 : at + 4 + length]
                at += 4 + length
                (command if header & 1 else data).write(fragment)
                if header & 1 and header & 2:
                    reply.command = decode(command, True, True)
                    if reply.command.CommandDataSetType == NO_DATA_SET:
                        return reply
                elif header & 2:
                    reply.data = data.getvalue()
                    return reply

    def request(self, command: bytes, data: bytes | None) -> Reply:
        self.send(command, data)
        return self.receive()

    def close(self) -> None:
        """A-RELEASE would need a reply; an A-ABORT ends it at once, then close."""
        with contextlib.suppress(OSError):
            self.sock.sendall(peer.a_abort_pdu())
        self.sock.close()


def n_create(uid: str) -> bytes:
    return command_bytes(
        AffectedSOPClassUID=peer.MPPS_CLASS,
        CommandField=N_CREATE_RQ,
        MessageID=1,
        CommandDataSetType=0x0001,
        AffectedSOPInstanceUID=uid,
    )


def n_set(uid: str) -> bytes:
    return command_bytes(
        RequestedSOPClassUID=peer.MPPS_CLASS,
        CommandField=N_SET_RQ,
        MessageID=2,
        CommandDataSetType=0x0001,
        RequestedSOPInstanceUID=uid,
    )


def n_get(uid: str) -> bytes:
    return command_bytes(
        RequestedSOPClassUID=peer.MPPS_CLASS,
        CommandField=N_GET_RQ,
        MessageID=3,
        CommandDataSetType=NO_DATA_SET,
        RequestedSOPInstanceUID=uid,
    )


def c_find(sop_class: str) -> bytes:
    return command_bytes(
        AffectedSOPClassUID=sop_class,
        CommandField=C_FIND_RQ,
        MessageID=4,
        Priority=0,
        CommandDataSetType=0x0001,
    )


def decode_explicit(data: bytes) -> Dataset:
    return decode(io.BytesIO(data), False, True)
