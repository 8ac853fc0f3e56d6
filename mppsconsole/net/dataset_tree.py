"""A stored dataset as a plain tree of rows, for the detail pane and text export.

The GUI never parses DICOM itself: it renders these rows (tag, keyword, VR,
value, children) and copies their text form.
"""

from __future__ import annotations

import dataclasses

from pydicom.dataset import Dataset

from mppsconsole.net.datasets import from_json

MAX_VALUE_CHARS = 200


@dataclasses.dataclass(frozen=True)
class AttributeRow:
    tag: str
    keyword: str
    vr: str
    value: str
    children: tuple[AttributeRow, ...] = ()


def _value(elem_value: object) -> str:
    text = (
        "\\".join(str(v) for v in elem_value) if isinstance(elem_value, list) else str(elem_value)
    )
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def rows(ds: Dataset) -> tuple[AttributeRow, ...]:
    out = []
    for elem in ds:
        tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.VR == "SQ":
            items = tuple(
                AttributeRow("", "Item", "", f"#{n}", rows(item))
                for n, item in enumerate(elem.value, start=1)
            )
            out.append(AttributeRow(tag, elem.keyword, "SQ", f"{len(items)} item(s)", items))
        else:
            value = "" if elem.value is None else _value(elem.value)
            out.append(AttributeRow(tag, elem.keyword, str(elem.VR), value))
    return tuple(out)


def tree(dataset_json: str) -> tuple[AttributeRow, ...]:
    """Rows of a dataset stored as DICOM JSON (empty for an empty message)."""
    return rows(from_json(dataset_json)) if dataset_json else ()


def as_text(items: tuple[AttributeRow, ...], depth: int = 0) -> str:
    """dcmdump-like text, indented by sequence depth (for the clipboard)."""
    lines = []
    for row in items:
        prefix = "  " * depth
        if row.tag:
            lines.append(f"{prefix}{row.tag} {row.vr:2} {row.keyword:40} {row.value}".rstrip())
        else:
            lines.append(f"{prefix}{row.keyword} {row.value}")
        if row.children:
            lines.append(as_text(row.children, depth + 1))
    return "\n".join(lines)
