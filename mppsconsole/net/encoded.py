"""Datasets that pynetdicom sends as already-encoded bytes.

pynetdicom encodes every C-FIND identifier a handler yields, ~1 ms each for a
worklist item: the bulk of a 1000-match query. The worklist SCP caches the
encoded response of each item and yields it wrapped in :class:`PreEncoded`;
the hook below, installed once in pynetdicom's service-class module, returns
those bytes when the transfer syntax matches and encodes anything else as usual.
"""

from __future__ import annotations

import struct
from typing import Any

import pynetdicom.dimse_messages as _dimse_messages
import pynetdicom.service_class as _service_class
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag

_original_encode = _service_class.encode  # type: ignore[attr-defined]

#: (implicit VR, little endian, deflated) of a presentation context's transfer syntax.
Encoding = tuple[bool, bool, bool]


class PreEncoded(Dataset):
    """An identifier whose encoding for one transfer syntax is known in advance."""

    def __init__(self, encoded: bytes, encoding: Encoding) -> None:
        super().__init__()
        object.__setattr__(self, "_encoded", encoded)
        object.__setattr__(self, "_encoding", encoding)


def _encode(ds: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False) -> Any:
    if isinstance(ds, PreEncoded) and ds._encoding == (is_implicit_vr, is_little_endian, deflated):
        return ds._encoded
    return _original_encode(ds, is_implicit_vr, is_little_endian, deflated)


def encode(ds: Dataset, encoding: Encoding) -> bytes:
    """Encode like pynetdicom would (``ValueError`` when pydicom cannot)."""
    data = _original_encode(ds, *encoding)
    if data is None:
        raise ValueError("the dataset cannot be encoded")
    return bytes(data)


_service_class.encode = _encode  # type: ignore[attr-defined]


# -- command sets ------------------------------------------------------------
#
# pynetdicom encodes each DIMSE command set twice (once to measure the group
# length, once to send it) with pydicom's generic writer: ~0.3 ms a message, a
# fifth of the MPPS SCP's CPU per N-CREATE / N-SET and a quarter of what a
# worklist query spent per pending response. Command sets are always Implicit
# VR Little Endian and hold a handful of US, UL, UI, AE, LO and AT elements, so
# the hook below writes those directly and leaves anything else to pydicom.
# tests/network/test_encoded.py checks the hook is in place and encodes
# exactly as pydicom does.

_original_command_encode = _dimse_messages.encode  # type: ignore[attr-defined]
#: Text VRs of command elements, with the byte that pads each to even length.
_TEXT_PADDING = {"UI": b"\0", "AE": b" ", "LO": b" ", "SH": b" ", "CS": b" "}
_NUMBER_CODES = {"US": "H", "UL": "L"}
_HEADER = struct.Struct("<HHL")


def _values(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | MultiValue) else [value]


def _element_value(vr: str, value: Any) -> bytes | None:
    """An element's value bytes as pydicom writes them, None when pydicom must."""
    values = _values(value)
    padding = _TEXT_PADDING.get(vr)
    if padding is not None:
        if not all(isinstance(v, str) for v in values):
            return None
        data = "\\".join(values).encode("ascii")
        return data + padding if len(data) % 2 else data
    code = _NUMBER_CODES.get(vr)
    if code is not None:
        return struct.pack(f"<{len(values)}{code}", *values)
    if vr == "AT":
        return b"".join(struct.pack("<HH", tag >> 16, tag & 0xFFFF) for tag in map(Tag, values))
    return None


def _command_bytes(ds: Dataset) -> bytes | None:
    parts = []
    for elem in ds:
        data = _element_value(elem.VR, elem.value)
        if data is None:
            return None
        parts.append(_HEADER.pack(elem.tag.group, elem.tag.element, len(data)))
        parts.append(data)
    return b"".join(parts)


def encode_command(
    ds: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False
) -> Any:
    """pynetdicom's ``encode`` for command sets: directly for what they hold, else pydicom."""
    if is_implicit_vr and is_little_endian and not deflated:
        try:
            data = _command_bytes(ds)
        except (struct.error, UnicodeEncodeError, TypeError, ValueError, OverflowError):
            data = None
        if data is not None:
            return data
    return _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)


_dimse_messages.encode = encode_command  # type: ignore[attr-defined]
