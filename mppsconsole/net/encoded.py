"""Datasets that pynetdicom sends as already-encoded bytes.

pynetdicom encodes every C-FIND identifier a handler yields, ~1 ms each for a
worklist item: the bulk of a 1000-match query. The worklist SCP caches the
encoded response of each item and yields it wrapped in :class:`PreEncoded`;
the hook below, installed once in pynetdicom's service-class module, returns
those bytes when the transfer syntax matches and encodes anything else as usual.
"""

from __future__ import annotations

import threading
from typing import Any

import pynetdicom.dimse_messages as _dimse_messages
import pynetdicom.service_class as _service_class
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

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
# length, once to send it) with pydicom's generic writer: a quarter of the time a
# worklist query spent per pending response, though all pending responses of a
# query carry the same command set. ``dimse_messages`` only encodes command sets
# (always implicit VR little endian), so the hook below memoizes by content.
# tests/network/test_mwl_scp.py checks the hook is in place and encodes exactly
# as pydicom does.

_original_command_encode = _dimse_messages.encode  # type: ignore[attr-defined]
#: Distinct command sets remembered; a query's responses share one, so a few suffice.
COMMAND_CACHE_SIZE = 256
_command_cache: dict[tuple[Any, ...], bytes] = {}
_command_lock = threading.Lock()


def _value_key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | MultiValue) else value


def encode_command(
    ds: Any, is_implicit_vr: bool, is_little_endian: bool, deflated: bool = False
) -> Any:
    """pynetdicom's ``encode`` for command sets, remembering recent results."""
    try:
        key = (
            is_implicit_vr,
            is_little_endian,
            deflated,
            *[(elem.tag, elem.VR, _value_key(elem.value)) for elem in ds],
        )
        hash(key)
    except TypeError:  # an unhashable value: encode as usual
        return _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)
    with _command_lock:
        encoded = _command_cache.get(key)
    if encoded is None:
        encoded = _original_command_encode(ds, is_implicit_vr, is_little_endian, deflated)
        if encoded is None:
            return None
        with _command_lock:
            if len(_command_cache) >= COMMAND_CACHE_SIZE:
                _command_cache.clear()
            _command_cache[key] = encoded
    return encoded


_dimse_messages.encode = encode_command  # type: ignore[attr-defined]
