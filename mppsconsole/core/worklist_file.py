"""Worklist import files (JSON array of objects, or CSV with a header row).

All or nothing: the first bad row is reported with its number and nothing is
imported, so a half-imported day never reaches the modalities.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePath
from typing import Any

from mppsconsole.core.errors import InputError
from mppsconsole.core.worklist import WorklistItem, build_item


def _rows_from_json(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise InputError("expected a JSON array of objects, one per worklist item")
    return data


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError("the CSV file has no header row")
    rows = []
    for row in reader:
        if None in row:
            raise InputError(f"row {reader.line_num}: more values than header columns")
        rows.append({k.strip(): v for k, v in row.items() if v not in (None, "")})
    return rows


def parse_worklist_file(name: str, text: str) -> list[WorklistItem]:
    """Items of a ``.json`` or ``.csv`` file; InputError names the first problem."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".json":
        rows, label = _rows_from_json(text), "item"
    elif suffix == ".csv":
        rows, label = _rows_from_csv(text), "row"
    else:
        raise InputError(f"unknown file type {suffix or '(none)'}: expected .json or .csv")
    if not rows:
        raise InputError("the file holds no worklist items")
    items = []
    for number, row in enumerate(rows, start=1 if label == "item" else 2):
        try:
            items.append(build_item(row))
        except InputError as exc:
            raise InputError(f"{label} {number}: {exc}") from None
    return items
