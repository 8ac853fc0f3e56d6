"""Datasets that pynetdicom sends as already-encoded bytes.

pynetdicom encodes every C-FIND identifier a handler yields, ~1 ms each for a
worklist item: the bulk of a 1000-match query. The worklist SCP caches the
encoded response of each item and yields it wrapped in :class:`PreEncoded`;
the hook below, installed once in pynetdicom's service-class module, returns
those bytes when the transfer syntax matches and encodes anything else as usual.
"""

from __future__ import annotations

from typing import Any

import pynetdicom.service_class as _service_class
from pydicom.dataset import Dataset

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
