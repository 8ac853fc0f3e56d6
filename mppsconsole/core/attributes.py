"""The view of a DICOM dataset that domain rules need.

Rules in :mod:`mppsconsole.core` read attributes by keyword; a pydicom Dataset
satisfies this protocol as is, so the rules stay free of pydicom and need no
conversion step on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Attributes(Protocol):
    """Keyword access to a dataset (pydicom's Dataset matches it)."""

    def __contains__(self, keyword: str, /) -> bool: ...

    def get(self, keyword: str, default: Any = None, /) -> Any: ...


def is_empty(value: Any) -> bool:
    """True for a zero-length DICOM value (None, empty text, empty sequence)."""
    if value is None:
        return True
    if isinstance(value, str | bytes):
        return value.strip(" \0") == "" if isinstance(value, str) else len(value) == 0
    if isinstance(value, Iterable):
        return len(list(value)) == 0
    return str(value) == ""


def text(attrs: Attributes, keyword: str) -> str:
    """The value of ``keyword`` as text, empty when absent or empty."""
    value = attrs.get(keyword)
    return "" if value is None else str(value).strip(" \0")


def items(attrs: Attributes, keyword: str) -> list[Attributes]:
    """The items of a sequence attribute, empty when absent."""
    value = attrs.get(keyword)
    return list(value) if value else []
