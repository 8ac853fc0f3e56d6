"""Storage commitment requests we sent, and the answers that came back for them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3

PENDING = "pending"
COMMITTED = "committed"
PARTIAL = "failures"


@dataclasses.dataclass(frozen=True)
class Commitment:
    transaction_uid: str
    step_uid: str | None
    node: str
    requested_at: dt.datetime
    state: str
    committed: list[list[str]]  # [SOP Class UID, SOP Instance UID]
    failed: list[list[str]]  # [SOP Class UID, SOP Instance UID, failure reason]
    answered_at: dt.datetime | None

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["requested_at"] = self.requested_at.isoformat()
        data["answered_at"] = self.answered_at.isoformat() if self.answered_at else None
        return data


def create(
    conn: sqlite3.Connection,
    transaction_uid: str,
    step_uid: str | None,
    node: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        "INSERT INTO commitments (transaction_uid, step_uid, node, requested_at) "
        "VALUES (?, ?, ?, ?)",
        (transaction_uid, step_uid, node, now.isoformat()),
    )


def record_answer(
    conn: sqlite3.Connection,
    transaction_uid: str,
    committed: list[list[str]],
    failed: list[list[str]],
    now: dt.datetime,
) -> bool:
    """Store the N-EVENT-REPORT for a request; False when no such request was sent."""
    cursor = conn.execute(
        "UPDATE commitments SET state = ?, committed = ?, failed = ?, answered_at = ? "
        "WHERE transaction_uid = ?",
        (
            PARTIAL if failed else COMMITTED,
            json.dumps(committed),
            json.dumps(failed),
            now.isoformat(),
            transaction_uid,
        ),
    )
    return cursor.rowcount > 0


def get(conn: sqlite3.Connection, transaction_uid: str) -> Commitment | None:
    row = conn.execute(
        "SELECT * FROM commitments WHERE transaction_uid = ?", (transaction_uid,)
    ).fetchone()
    if row is None:
        return None
    return Commitment(
        transaction_uid=row["transaction_uid"],
        step_uid=row["step_uid"],
        node=row["node"],
        requested_at=dt.datetime.fromisoformat(row["requested_at"]),
        state=row["state"],
        committed=json.loads(row["committed"]),
        failed=json.loads(row["failed"]),
        answered_at=dt.datetime.fromisoformat(row["answered_at"]) if row["answered_at"] else None,
    )


def for_step(conn: sqlite3.Connection, step_uid: str) -> list[Commitment]:
    rows = conn.execute(
        "SELECT transaction_uid FROM commitments WHERE step_uid = ? ORDER BY requested_at",
        (step_uid,),
    ).fetchall()
    return [c for r in rows if (c := get(conn, r[0])) is not None]
