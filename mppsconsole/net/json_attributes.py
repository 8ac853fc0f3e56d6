"""Datasets in the DICOM JSON model (PS3.18 F.2), read by keyword as the domain rules read them.

The MPPS SCP keeps a step's attributes as the JSON dict it stores: the rules
in :mod:`mppsconsole.core` read them through :class:`JsonAttributes` (keyword
access on a pydicom Dataset costs ~20 µs a look-up, and a message makes about
a hundred), and an N-SET merges its dict into the step's without a Dataset.
"""

from __future__ import annotations

import functools
from typing import Any

from pydicom.datadict import dictionary_has_tag, dictionary_keyword, tag_for_keyword

JsonDict = dict[str, Any]

_PN_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")


@functools.cache
def json_key(keyword: str) -> str:
    """The DICOM JSON key (tag as 8 hex digits) of a keyword; "" for an unknown keyword."""
    tag = tag_for_keyword(keyword)
    return "" if tag is None else f"{tag:08X}"


@functools.lru_cache(maxsize=4096)
def tag_name(tag: int) -> str:
    """The keyword of a tag as pydicom's ``DataElement.keyword`` gives it, or
    ``(gggg,eeee)`` for private, unknown, repeating and group-length tags (remembered,
    within bounds: peers choose the tags)."""
    if dictionary_has_tag(tag):
        return dictionary_keyword(tag)
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def keywords(data: JsonDict) -> list[str]:
    """The names of a JSON dataset's top-level attributes, in tag order."""
    return [tag_name(int(key, 16)) for key in data]


def merged(current: JsonDict, modification: JsonDict) -> JsonDict:
    """N-SET semantics: each attribute given replaces the stored one (sequences whole).

    Keys are fixed-width hex, so sorting them sorts by tag, as pydicom writes JSON.
    """
    return dict(sorted({**current, **modification}.items()))


def with_text(data: JsonDict, keyword: str, vr: str, value: str) -> JsonDict:
    """``data`` with a single-valued text attribute set (kept in tag order)."""
    return merged(data, {json_key(keyword): {"vr": vr, "Value": [value]}})


class JsonAttributes:
    """Keyword access to a JSON dataset: text for a single value, a list for several,
    items for a sequence (what :class:`mppsconsole.core.attributes.Attributes` asks)."""

    __slots__ = ("_data",)

    def __init__(self, data: JsonDict) -> None:
        self._data = data

    def _element(self, keyword: str) -> dict[str, Any] | None:
        return self._data.get(json_key(keyword))

    def __contains__(self, keyword: str, /) -> bool:
        return self._element(keyword) is not None

    def get(self, keyword: str, default: Any = None, /) -> Any:
        element = self._element(keyword)
        if element is None:
            return default
        values = element.get("Value", [])
        if element.get("vr") == "SQ":
            return [JsonAttributes(item) for item in values]
        if element.get("vr") == "PN":
            values = ["=".join(v.get(g, "") for g in _PN_GROUPS).rstrip("=") for v in values]
        if not values:
            return ""
        return values[0] if len(values) == 1 else values
