"""Validation findings of each step, by scope, with a tally kept on the step row.

Scopes: ``message`` findings belong to one N-CREATE / N-SET and accumulate;
``state`` findings describe the step as it stands and are replaced on every
change; ``image:<SOP Instance UID>`` findings compare one stored image with its
step; ``ref:<SOP Instance UID>`` findings say that the step and the store
disagree about one instance. Scoping by instance lets an arriving image touch
its own rows only, so a step with thousands of images costs the same per image.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from mppsconsole.core.validation import SEVERITIES, Finding

MESSAGE = "message"
STATE = "state"


_REFERENCE = "ref:"


def image_scope(sop_instance_uid: str) -> str:
    return f"image:{sop_instance_uid}"


def reference_scope(sop_instance_uid: str) -> str:
    return f"{_REFERENCE}{sop_instance_uid}"


def clear_references(conn: sqlite3.Connection, uid: str, direction: str) -> None:
    """Drop every ``ref:`` finding of a step (before they are worked out again)."""
    conn.execute(
        "DELETE FROM findings WHERE step_uid = ? AND direction = ? AND scope >= ? AND scope < ?",
        (uid, direction, _REFERENCE, _REFERENCE[:-1] + chr(ord(_REFERENCE[-1]) + 1)),
    )


def add(
    conn: sqlite3.Connection, uid: str, direction: str, scope: str, found: Iterable[Finding]
) -> None:
    conn.executemany(
        "INSERT INTO findings (step_uid, direction, scope, severity, attribute, message, rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(uid, direction, scope, f.severity, f.attribute, f.message, f.rule) for f in found],
    )


def replace(
    conn: sqlite3.Connection, uid: str, direction: str, scope: str, found: Sequence[Finding]
) -> int:
    """The findings of ``scope`` become ``found``; how many the step has more than before."""
    removed = conn.execute(
        "DELETE FROM findings WHERE step_uid = ? AND direction = ? AND scope = ?",
        (uid, direction, scope),
    ).rowcount
    add(conn, uid, direction, scope, found)
    return len(found) - removed


_ORDER = "CASE severity " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))


def for_step(conn: sqlite3.Connection, uid: str, direction: str) -> list[Finding]:
    """Every finding of a step, worst first, then in the order found."""
    rows = conn.execute(
        "SELECT severity, attribute, message, rule FROM findings "
        f"WHERE step_uid = ? AND direction = ? ORDER BY {_ORDER} END, id",
        (uid, direction),
    )
    return [Finding(*row) for row in rows]


def worst(conn: sqlite3.Connection, uid: str, direction: str) -> str:
    """The worst severity among a step's findings ('' for none): a few index probes."""
    for severity in SEVERITIES:
        row = conn.execute(
            "SELECT 1 FROM findings WHERE step_uid = ? AND direction = ? AND severity = ? LIMIT 1",
            (uid, direction, severity),
        ).fetchone()
        if row is not None:
            return severity
    return ""


def tally(conn: sqlite3.Connection, uid: str, direction: str) -> tuple[int, str]:
    """(number of findings, worst severity or '') of a step."""
    row = conn.execute(
        "SELECT COUNT(*) FROM findings WHERE step_uid = ? AND direction = ?", (uid, direction)
    ).fetchone()
    return int(row[0]), worst(conn, uid, direction)


def set_tally(conn: sqlite3.Connection, uid: str, direction: str, count: int, worst: str) -> None:
    conn.execute(
        "UPDATE steps SET finding_count = ?, worst_finding = ? "
        "WHERE sop_instance_uid = ? AND direction = ?",
        (count, worst, uid, direction),
    )
