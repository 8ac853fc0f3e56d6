"""Fuzz the decode path of incoming N-CREATE / N-SET / C-FIND / N-ACTION data sets.

The bytes go through a real pynetdicom ``Event`` (its lazy ``_get_dataset``
and ``dsutils.decode``, as our handlers receive them) into
:func:`request_dataset`, then into what the handler does next. Every input
must end as a checked Dataset or an :class:`UndecodableDataset`; whatever the
handler does after that may only refuse with the errors it maps to a status.
Run with warnings as errors (the test suite) and ignored (``serve``), since
pydicom warns about much of what it reads leniently.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import uid
from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.dimse_primitives import C_FIND, N_ACTION, N_CREATE, N_SET
from pynetdicom.dsutils import encode
from pynetdicom.events import Event
from pynetdicom.presentation import PresentationContextTuple

from mppsconsole.core import mpps
from mppsconsole.core.errors import ServiceError
from mppsconsole.net import datasets
from mppsconsole.net.incoming import UndecodableDataset, request_dataset
from mppsconsole.net.mwl_scp import layout
from tests.network.conftest import completed_dataset, create_dataset, mwl_query

SYNTAXES = [
    uid.ImplicitVRLittleEndian,
    uid.ExplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
    uid.DeflatedExplicitVRLittleEndian,
]
#: (event, request primitive, its parameter, the event property our handler reads)
KINDS: list[tuple[Any, type, str, str]] = [
    (evt.EVT_N_CREATE, N_CREATE, "AttributeList", "attribute_list"),
    (evt.EVT_N_SET, N_SET, "ModificationList", "modification_list"),
    (evt.EVT_C_FIND, C_FIND, "Identifier", "identifier"),
    (evt.EVT_N_ACTION, N_ACTION, "ActionInformation", "action_information"),
]


def _encoded(ds: Dataset, syntax: uid.UID) -> bytes:
    data = encode(ds, syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated)
    assert data is not None
    return data


SEEDS = [create_dataset(), completed_dataset(), mwl_query(PatientName="Doe*")]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, uid.UID, int]:
    """A valid data set's bytes with flips, cuts and insertions, or random bytes."""
    syntax = draw(st.sampled_from(SYNTAXES))
    kind = draw(st.integers(0, len(KINDS) - 1))
    if draw(st.booleans()):
        return draw(st.binary(max_size=600)), syntax, kind
    data = bytearray(_encoded(draw(st.sampled_from(SEEDS)), syntax))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "length" and at + 4 <= len(data):
            data[at : at + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x80"]))
    return bytes(data), syntax, kind


def event_for(data: bytes, syntax: uid.UID, kind: int) -> tuple[Event, str]:
    event_type, primitive_class, parameter, attribute = KINDS[kind]
    request = primitive_class()
    setattr(request, parameter, io.BytesIO(data))
    context = PresentationContextTuple(1, "1.2.840.10008.3.1.2.3.3", syntax)
    return Event(None, event_type, {"request": request, "context": context}), attribute  # type: ignore[arg-type]


def what_the_handler_does_next(ds: Dataset, attribute: str) -> None:
    """The handlers' next steps: these refusals are mapped to statuses, nothing else is."""
    try:
        if attribute == "attribute_list":
            mpps.check_create(ds)
            datasets.to_json(ds)
        elif attribute == "modification_list":
            mpps.check_set(mpps.IN_PROGRESS, ds, datasets.keywords(ds))
            datasets.to_json(ds)
        elif attribute == "identifier":
            datasets.worklist_query(ds)
            hash(layout(ds))
    except (ServiceError, ValueError, TypeError):
        pass


@pytest.mark.parametrize("warning_mode", ["error", "ignore"])
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=mutated())
def test_any_bytes_decode_or_raise_our_error(
    warning_mode: str, case: tuple[bytes, uid.UID, int]
) -> None:
    data, syntax, kind = case
    event, attribute = event_for(data, syntax, kind)
    with warnings.catch_warnings():
        warnings.simplefilter(warning_mode)  # type: ignore[arg-type]
        try:
            ds = request_dataset(event, attribute)
        except UndecodableDataset as refused:
            assert refused.comment, "a refusal the peer cannot read"
            hypothesis.event("refused")
            return
        assert isinstance(ds, Dataset)
        hypothesis.event("decoded")
        what_the_handler_does_next(ds, attribute)


@pytest.mark.parametrize("kind", range(len(KINDS)))
def test_valid_data_sets_pass_unchanged(kind: int) -> None:
    for syntax in SYNTAXES:
        for seed in SEEDS:
            event, attribute = event_for(_encoded(seed, syntax), syntax, kind)
            assert request_dataset(event, attribute) == seed
