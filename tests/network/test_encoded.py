"""Command sets written directly (net/encoded.py) are byte for byte what pydicom writes."""

from __future__ import annotations

import pynetdicom.dimse_messages as dimse_messages
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom.dsutils import encode as pydicom_encode

from mppsconsole.net import encoded

UIDS = st.sampled_from(["1.2.840.10008.3.1.2.3.3", "1.2.3.45", generate_uid()])
US = st.integers(0, 0xFFFF)
TEXT = st.text(alphabet="ABCxyz 09.^é", max_size=30)
#: Command elements (keyword -> value strategy) as DIMSE messages carry them.
FIELDS = {
    "CommandGroupLength": st.integers(0, 0xFFFFFFFF),
    "AffectedSOPClassUID": UIDS,
    "RequestedSOPInstanceUID": UIDS,
    "CommandField": US,
    "MessageID": US,
    "MessageIDBeingRespondedTo": US,
    "MoveDestination": st.sampled_from(["", "STORESCP", "ODD"]),
    "Priority": US,
    "CommandDataSetType": st.sampled_from([0x0101, 0x0001]),
    "Status": US,
    "OffendingElement": st.lists(st.sampled_from([0x00100010, 0x00400252]), max_size=3),
    "ErrorComment": TEXT,
    "ErrorID": US,
    "AffectedSOPInstanceUID": UIDS,
    "EventTypeID": US,
    "AttributeIdentifierList": st.lists(st.sampled_from([0x00100010, 0x00080050]), max_size=3),
    "NumberOfRemainingSuboperations": US,
}


@st.composite
def command_sets(draw: st.DrawFn) -> Dataset:
    ds = Dataset()
    for keyword, values in FIELDS.items():
        if draw(st.booleans()):
            setattr(ds, keyword, draw(values))
    return ds


def test_pynetdicom_encodes_command_sets_through_the_hook() -> None:
    assert dimse_messages.encode is encoded.encode_command


@settings(max_examples=400, deadline=None, derandomize=True)
@given(command=command_sets())
def test_command_sets_are_encoded_exactly_as_pydicom_does(command: Dataset) -> None:
    assert encoded.encode_command(command, True, True) == pydicom_encode(command, True, True)


def test_other_transfer_syntaxes_are_left_to_pydicom() -> None:
    command = Dataset()
    command.MessageID = 7
    command.AffectedSOPInstanceUID = "1.2.3"
    assert encoded.encode_command(command, False, False) == pydicom_encode(command, False, False)


def test_a_typical_response_is_written_directly() -> None:
    command = Dataset()
    command.CommandGroupLength = 0
    command.AffectedSOPClassUID = "1.2.840.10008.3.1.2.3.3"
    command.CommandField = 0x8140
    command.MessageIDBeingRespondedTo = 3
    command.CommandDataSetType = 0x0101
    command.Status = 0x0110
    command.ErrorComment = "Missing attribute: PatientID"
    command.AffectedSOPInstanceUID = generate_uid()
    assert encoded._command_bytes(command) == pydicom_encode(command, True, True)
