"""Validation findings of each step, by scope, with a tally kept on the step row.

Scopes: ``message`` findings belong to one N-CREATE / N-SET and accumulate;
``state`` findings describe the step as it stands and are replaced on every
change; ``instance:<SOP Instance UID>`` findings belong to one stored image.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from mppsconsole.core.validation import SEVERITIES, Finding

MESSAGE = "message"
STATE = "state"


def instance_scope(sop_instance_uid: str) -> str:
    return f"instance:{sop_instance_uid}"


def add(
    conn: sqlite3.Connection, uid: str, direction: str, scope: str, found: Iterable[Finding]
) -> None:
    conn.executemany(
        "INSERT INTO findings (step_uid, direction, scope, severity, attribute, message, rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(uid, direction, scope, f.severity, f.attribute, f.message, f.rule) for f in found],
    )


def replace(
    conn: sqlite3.Connection, uid: str, direction: str, scope: str, found: Iterable[Finding]
) -> None:
    """The findings of ``scope`` become ``found`` (earlier ones of that scope dropped)."""
    conn.execute(
        "DELETE FROM findings WHERE step_uid = ? AND direction = ? AND scope = ?",
        (uid, direction, scope),
    )
    add(conn, uid, direction, scope, found)


_ORDER = "CASE severity " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))


def for_step(conn: sqlite3.Connection, uid: str, direction: str) -> list[Finding]:
    """Every finding of a step, worst first, then in the order found."""
    rows = conn.execute(
        "SELECT severity, attribute, message, rule FROM findings "
        f"WHERE step_uid = ? AND direction = ? ORDER BY {_ORDER} END, id",
        (uid, direction),
    )
    return [Finding(*row) for row in rows]


def tally(conn: sqlite3.Connection, uid: str, direction: str) -> tuple[int, str]:
    """(number of findings, worst severity or '') of a step."""
    row = conn.execute(
        f"SELECT COUNT(*), MIN({_ORDER} END) FROM findings WHERE step_uid = ? AND direction = ?",
        (uid, direction),
    ).fetchone()
    return int(row[0]), "" if row[1] is None else SEVERITIES[row[1]]


def set_tally(conn: sqlite3.Connection, uid: str, direction: str, count: int, worst: str) -> None:
    conn.execute(
        "UPDATE steps SET finding_count = ?, worst_finding = ? "
        "WHERE sop_instance_uid = ? AND direction = ?",
        (count, worst, uid, direction),
    )
