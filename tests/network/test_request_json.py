"""The direct little-endian decoder gives exactly what pydicom's checked path gives, or defers.

The reference is what the MPPS SCP stored before the decoder existed:
``to_json_dict(request_dataset(event, ...))`` with warnings as errors. For
every input the direct decoder either returns that same JSON dict (and the
same stored text) or returns None, and then the handler takes the reference
path itself; it must never accept what the reference refuses or warns about.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import uid
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mppsconsole.net import datasets, json_attributes
from mppsconsole.net.incoming import MAX_DEPTH, UndecodableDataset, request_dataset
from mppsconsole.net.request_json import decode, request_json
from tests.network import raw_peer
from tests.network.conftest import completed_dataset, create_dataset, mwl_query
from tests.network.test_decoder_fuzz import _encoded, event_for, mutated

LITTLE_ENDIAN = [uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian]


def reference(data: bytes, syntax: uid.UID) -> dict[str, Any] | None:
    """pydicom's checked decode as JSON, None when it refuses or warns."""
    event, attribute = event_for(data, syntax, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return datasets.to_json_dict(request_dataset(event, attribute))
        except (UndecodableDataset, ValueError, TypeError, IndexError):
            return None


def assert_same_or_deferred(data: bytes, syntax: uid.UID) -> dict[str, Any] | None:
    fast = decode(data, syntax.is_implicit_VR)
    if hypothesis.currently_in_test_context():
        hypothesis.event("deferred to pydicom" if fast is None else "decoded directly")
    if fast is not None:
        expected = reference(data, syntax)
        assert expected is not None, "decoded what pydicom refuses or warns about"
        assert fast == expected
        assert datasets.dumps(fast) == datasets.dumps(expected)
    return fast


def varied() -> Dataset:
    """Every kind of element the decoder reads itself, with padding and multiple values."""
    ds = create_dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Müller^Jürgen=ミュラー^ユルゲン=myura^yurugen"
    ds.OtherPatientNames = ["Doe^J", "Roe^R"]
    ds.PatientComments = "line one\r\nline two, with a \\ backslash  "
    ds.OtherPatientIDs = ["A1", "B2"]
    ds.SeriesNumber = "12"
    ds.PatientWeight = "72.50"
    ds.PixelSpacing = ["0.5", "0.5"]
    ds.Rows = 512
    ds.StudyTime = "093000.123456"
    ds.RetrieveURL = "https://pacs.example/wado"
    ds.PerformedProcedureStepEndDate = ""
    ds.ReferencedPatientSequence = Sequence()
    return ds


SEEDS = {
    "N-CREATE": create_dataset(),
    "N-SET COMPLETED": completed_dataset(),
    "MWL query": mwl_query(PatientName="Doe*"),
    "varied, UTF-8": varied(),
}


@pytest.mark.parametrize("syntax", LITTLE_ENDIAN)
@pytest.mark.parametrize("seed", list(SEEDS))
def test_valid_data_sets_decode_directly_as_pydicom_does(seed: str, syntax: uid.UID) -> None:
    data = _encoded(SEEDS[seed], syntax)
    assert assert_same_or_deferred(data, syntax) is not None, "took pydicom's path"


def test_defined_length_sequences_and_items_decode_directly() -> None:
    """pydicom writes undefined lengths; DCMTK and others often send defined ones."""
    item = raw_peer.element(0x0008, 0x1150, "UI", b"1.2.840.10008.3.1.2.3.1\0")
    item += raw_peer.element(0x0008, 0x1155, "UI", b"1.2.3.4\0")
    seq = struct.pack("<HHL", 0xFFFE, 0xE000, len(item)) + item
    data = raw_peer.element(0x0008, 0x1110, "SQ", seq) + raw_peer.element(
        0x0010, 0x0010, "PN", b"Doe^Jane"
    )
    decoded = assert_same_or_deferred(data, uid.ExplicitVRLittleEndian)
    assert decoded is not None
    assert decoded["00081110"]["Value"][0]["00081155"] == {"vr": "UI", "Value": ["1.2.3.4"]}


def latin1_name() -> bytes:
    return raw_peer.element(0x0008, 0x0005, "CS", b"ISO_IR 100") + raw_peer.element(
        0x0010, 0x0010, "PN", "Müller^Jürgen ".encode("latin-1")
    )


def test_latin1_text_decodes_directly() -> None:
    decoded = assert_same_or_deferred(latin1_name(), uid.ExplicitVRLittleEndian)
    assert decoded is not None
    assert decoded["00100010"]["Value"] == [{"Alphabetic": "Müller^Jürgen"}]


def nested(depth: int) -> bytes:
    return raw_peer.nested_sequences(depth)


#: Inputs the direct decoder must leave to pydicom (which refuses or warns about most).
DEFERRED = {
    "wrong VR": raw_peer.element(0x0010, 0x0010, "US", b"\x07\x00"),
    "length past the end": raw_peer.element(0x0010, 0x0020, "LO", b"x", 90),
    "sequence past the end": raw_peer.element(0x0040, 0x0340, "SQ", b"\xfe\xff", 5000),
    "nested too deep": nested(MAX_DEPTH + 2),
    "unknown character set": raw_peer.element(0x0008, 0x0005, "CS", b"ISO_IR 999"),
    "ISO 2022 character set": raw_peer.element(0x0008, 0x0005, "CS", b"\\ISO 2022 IR 87"),
    "not UTF-8": raw_peer.element(0x0008, 0x0005, "CS", b"ISO_IR 192")
    + raw_peer.element(0x0010, 0x0010, "PN", b"Doe\xff\xfe^J "),
    "private element": raw_peer.element(0x0009, 0x0010, "LO", b"ACME"),
    "elements out of order": raw_peer.element(0x0010, 0x0020, "LO", b"ID")
    + raw_peer.element(0x0010, 0x0010, "PN", b"Doe"),
    "CS value pydicom warns about": raw_peer.element(0x0008, 0x0060, "CS", b"ct"),
    "binary value": raw_peer.element(0x7FE0, 0x0010, "OB", b"\0\0"),
    "truncated header": b"\x10\x00\x10",
}


@pytest.mark.parametrize("case", list(DEFERRED))
def test_what_pydicom_must_judge_is_left_to_it(case: str) -> None:
    assert decode(DEFERRED[case], implicit=False) is None


def test_nesting_up_to_the_limit_decodes_directly() -> None:
    assert assert_same_or_deferred(nested(MAX_DEPTH), uid.ExplicitVRLittleEndian) is not None


def test_big_endian_and_deflate_take_pydicom_s_path_with_the_same_result() -> None:
    ds = create_dataset()
    for syntax in (uid.ExplicitVRBigEndian, uid.DeflatedExplicitVRLittleEndian):
        event, attribute = event_for(_encoded(ds, syntax), syntax, 0)
        assert request_json(event, attribute) == datasets.to_json_dict(ds)


def test_a_refusal_comes_from_pydicom_s_checks() -> None:
    event, attribute = event_for(DEFERRED["wrong VR"], uid.ExplicitVRLittleEndian, 0)
    with pytest.raises(UndecodableDataset, match="PatientName has VR US"):
        request_json(event, attribute)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=mutated())
def test_mutated_bytes_decode_as_pydicom_does_or_defer(case: tuple[bytes, uid.UID, int]) -> None:
    data, syntax, _ = case
    if syntax in LITTLE_ENDIAN:
        assert_same_or_deferred(data, syntax)


TEXT = st.text(alphabet="AZaz09 ^=\\.-_*é中\x00\r\n\t", max_size=20)
#: Declared character sets and the codec the generated text is written in.
CHARSETS = [(b"", "latin-1"), (b"ISO_IR 100", "latin-1"), (b"ISO_IR 192", "utf-8")]
#: (group, element, VR) of elements generated with arbitrary text.
TEXT_ELEMENTS = [
    (0x0008, 0x0050, "SH"),
    (0x0008, 0x0060, "CS"),
    (0x0008, 0x0020, "DA"),
    (0x0008, 0x0030, "TM"),
    (0x0010, 0x0010, "PN"),
    (0x0010, 0x0020, "LO"),
    (0x0010, 0x4000, "LT"),
    (0x0020, 0x000D, "UI"),
    (0x0020, 0x0011, "IS"),
    (0x0010, 0x1030, "DS"),
    (0x0040, 0x0241, "AE"),
]


@st.composite
def text_elements(draw: st.DrawFn) -> bytes:
    """Elements in tag order with arbitrary (often invalid) text or bytes, in a declared
    character set or the default one."""
    term, codec = draw(st.sampled_from(CHARSETS))
    data = raw_peer.element(0x0008, 0x0005, "CS", term) if term else b""
    for group, elem, vr in TEXT_ELEMENTS:
        if draw(st.booleans()):
            if draw(st.integers(0, 9)):
                value = draw(TEXT).encode(codec, "replace")
            else:
                value = draw(st.binary(max_size=12))
            data += raw_peer.element(group, elem, vr, value + b" " * (len(value) % 2))
    return data


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=text_elements())
def test_arbitrary_text_decodes_as_pydicom_does_or_defers(data: bytes) -> None:
    assert_same_or_deferred(data, uid.ExplicitVRLittleEndian)


def test_the_request_stream_is_read_as_it_came() -> None:
    """request_json reads the primitive's bytes: the same answer as the decoded event."""
    data = _encoded(completed_dataset(), uid.ExplicitVRLittleEndian)
    event, _ = event_for(data, uid.ExplicitVRLittleEndian, 1)
    assert request_json(event, "modification_list") == datasets.to_json_dict(
        request_dataset(event_for(data, uid.ExplicitVRLittleEndian, 1)[0], "modification_list")
    )
    assert isinstance(event.request.ModificationList, io.BytesIO)


def test_attributes_are_named_alike_in_json_and_in_a_dataset() -> None:
    """N-SET checks name attributes from the JSON dict, as they did from the Dataset."""
    ds = completed_dataset()
    ds.add_new(0x00400000, "UL", 4)  # a group length: no keyword of its own
    ds.add_new(0x60000010, "US", 512)  # a repeating-group tag (Overlay Rows)
    ds.add_new(0x00091001, "LO", "private")
    names = json_attributes.keywords(datasets.to_json_dict(ds))
    by_element = [e.keyword or f"({e.tag.group:04X},{e.tag.element:04X})" for e in ds]
    assert names == datasets.keywords(ds) == by_element
    assert "(0040,0000)" in names and "(6000,0010)" in names and "(0009,1001)" in names
