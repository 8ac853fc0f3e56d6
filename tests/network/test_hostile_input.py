"""Hostile data sets and association parameters against the in-process SCP.

Each case: the peer hears a failure status with an Error Comment (or an
A-ABORT), the store holds the whole step or nothing of it, and a normal
modality is served right after.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityWorklistInformationFind,
)

from mppsconsole.net.incoming import MAX_DEPTH
from mppsconsole.net.sockets import MAX_PDU_SIZE
from mppsconsole.store import steps
from tests.conftest import RunningServer
from tests.e2e import peer
from tests.network import raw_peer
from tests.network.conftest import (
    completed_dataset,
    create_dataset,
    create_step,
    mpps_association,
    performed_series,
    stored_step,
)

MWL_FIND = str(ModalityWorklistInformationFind)
SUCCESS = 0x0000


def assert_still_serving(scp: RunningServer) -> None:
    """A normal modality right after: N-CREATE and N-SET COMPLETED both succeed."""
    with mpps_association(scp) as assoc:
        uid = create_step(assoc)
        status, _ = assoc.send_n_set(completed_dataset(), peer.MPPS_CLASS, uid)
        assert status.Status == SUCCESS
    stored = stored_step(scp, uid)
    assert stored is not None and stored.summary.status == "COMPLETED"


def valid_create() -> Dataset:
    return create_dataset()


def without(ds: Dataset, *keywords: str) -> Dataset:
    for keyword in keywords:
        del ds[keyword]
    return ds


def wrong_vr() -> bytes:
    ds = without(valid_create(), "PatientName")
    ds.add_new(0x00100010, "US", 7)  # Patient's Name as a number
    return raw_peer.encoded(ds)


def length_past_end() -> bytes:
    return raw_peer.encoded(valid_create()) + raw_peer.element(
        0x0040, 0x0280, "LT", b"abc", length=500
    )


def sequence_length_past_end() -> bytes:
    ds = without(valid_create(), "PerformedSeriesSequence")
    return raw_peer.encoded(ds) + raw_peer.element(0x0040, 0x0340, "SQ", b"\xfe\xff", 5000)


def deeply_nested() -> bytes:
    ds = without(valid_create(), "ScheduledStepAttributesSequence")
    return raw_peer.encoded(ds) + raw_peer.nested_sequences(1000)


def nested_just_too_deep() -> bytes:
    ds = without(valid_create(), "ScheduledStepAttributesSequence")
    return raw_peer.encoded(ds) + raw_peer.nested_sequences(MAX_DEPTH + 2)


def with_character_set(term: bytes, ds: Dataset) -> bytes:
    """``ds`` declaring ``term`` (which pydicom could not encode with)."""
    ds = without(ds, "SpecificCharacterSet") if "SpecificCharacterSet" in ds else ds
    return raw_peer.element(0x0008, 0x0005, "CS", term) + raw_peer.encoded(ds)


def unknown_character_set() -> bytes:
    return with_character_set(b"ISO_IR 999", valid_create())


def not_utf8() -> bytes:
    ds = without(valid_create(), "PatientName")  # ISO_IR 192 stays declared
    return raw_peer.encoded(ds) + raw_peer.element(0x0010, 0x0010, "PN", b"Doe\xff\xfe^J ")


def random_bytes() -> bytes:
    return random.Random(6).randbytes(3000)


#: (data set, status expected, words the Error Comment must hold)
N_CREATE_CASES: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "wrong VR": (wrong_vr, 0x0106, "PatientName has VR US"),
    "value length past the end": (length_past_end, 0x0110, "past the end"),
    "sequence length past the end": (sequence_length_past_end, 0x0110, "past the end"),
    "1000 nested sequences": (deeply_nested, 0x0110, "nested"),
    "nested one level too deep": (nested_just_too_deep, 0x0110, f"deeper than {MAX_DEPTH}"),
    "unknown character set": (unknown_character_set, 0x0106, "ISO_IR 999"),
    "text not in its character set": (not_utf8, 0x0106, "PatientName"),
    "random bytes": (random_bytes, 0x0110, "decode"),
}


@pytest.mark.parametrize("case", list(N_CREATE_CASES))
def test_hostile_n_create_is_refused_and_stores_nothing(scp: RunningServer, case: str) -> None:
    data, expected, words = N_CREATE_CASES[case]
    uid = generate_uid()
    assoc = raw_peer.RawAssociation(scp.port, peer.MPPS_CLASS)
    try:
        reply = assoc.request(raw_peer.n_create(uid), data())
    finally:
        assoc.close()
    assert reply.status == expected, (reply, case)
    assert words in reply.comment, reply.comment
    assert stored_step(scp, uid) is None, "a refused N-CREATE left a step"
    with scp.db.reading() as conn:
        history = steps.messages(conn, uid)
    assert [(m.command, m.status) for m in history] == [("N-CREATE", expected)]
    assert_still_serving(scp)


def test_hostile_n_set_leaves_the_step_as_it_was(scp: RunningServer) -> None:
    with mpps_association(scp) as assoc:
        uid = create_step(assoc)
    before = stored_step(scp, uid)
    assert before is not None
    mods = Dataset()
    mods.add_new(0x00400252, "US", 3)  # Performed Procedure Step Status as a number
    mods.PerformedProcedureStepEndDate = "20261121"
    for data in (raw_peer.encoded(mods), raw_peer.nested_sequences(1000), random_bytes()):
        raw = raw_peer.RawAssociation(scp.port, peer.MPPS_CLASS)
        try:
            reply = raw.request(raw_peer.n_set(uid), data)
        finally:
            raw.close()
        assert reply.status in (0x0106, 0x0110), reply
        assert reply.comment
    after = stored_step(scp, uid)
    assert after is not None
    assert (after.summary, after.dataset_json) == (before.summary, before.dataset_json)
    assert_still_serving(scp)


def mwl_identifier(**changes: str) -> Dataset:
    ds = Dataset()
    ds.PatientName = "*"
    ds.PatientID = ""
    step = Dataset()
    step.Modality = ""
    ds.ScheduledProcedureStepSequence = DicomSequence([step])
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(
    ("case", "identifier", "words"),
    [
        (
            "unknown character set",
            lambda: with_character_set(b"KLINGON ", mwl_identifier()),
            "KLINGON",
        ),
        ("1000 nested sequences", lambda: raw_peer.nested_sequences(1000, 0x0040, 0x0100), "nest"),
        (
            "wrong VR",
            lambda: raw_peer.element(0x0010, 0x0010, "UL", struct.pack("<L", 1)),
            "PatientName has VR UL",
        ),
        ("length past the end", lambda: raw_peer.element(0x0010, 0x0020, "LO", b"x", 90), "past"),
    ],
)
def test_hostile_c_find_identifier_gets_a_failure(
    scp: RunningServer, case: str, identifier: Callable[[], bytes], words: str
) -> None:
    assoc = raw_peer.RawAssociation(scp.port, MWL_FIND)
    try:
        reply = assoc.request(raw_peer.c_find(MWL_FIND), identifier())
    finally:
        assoc.close()
    assert reply.status is not None and 0xC000 <= reply.status <= 0xCFFF, (case, reply)
    assert words in reply.comment, reply.comment
    assert_still_serving(scp)


@pytest.mark.parametrize("announced", [0, 0xFFFFFFFF])
def test_peer_maximum_pdu_of_0_or_4_gib_gets_sane_fragments(
    scp: RunningServer, announced: int
) -> None:
    """Unlimited (0) or 4 GiB: we still send PDUs no longer than we announce ourselves."""
    images = [generate_uid() for _ in range(2500)]  # the step's data set: ~400 KB
    with mpps_association(scp) as assoc:
        uid = create_step(assoc)
        done = completed_dataset([performed_series(image_uids=images)])
        status, _ = assoc.send_n_set(done, peer.MPPS_CLASS, uid)
        assert status.Status == SUCCESS

    raw = raw_peer.RawAssociation(scp.port, peer.MPPS_CLASS, max_pdu=announced)
    try:
        created = generate_uid()
        made = raw.request(raw_peer.n_create(created), raw_peer.encoded(create_dataset()))
        got = raw.request(raw_peer.n_get(uid), None)
    finally:
        raw.close()
    assert made.status == SUCCESS, made
    assert stored_step(scp, created) is not None
    assert got.status == SUCCESS, got
    assert len(got.data) > 2 * MAX_PDU_SIZE
    assert max(got.pdu_lengths) <= MAX_PDU_SIZE, got.pdu_lengths
    refs = raw_peer.decode_explicit(got.data).PerformedSeriesSequence[0].ReferencedImageSequence
    assert [str(r.ReferencedSOPInstanceUID) for r in refs] == images
    assert_still_serving(scp)
