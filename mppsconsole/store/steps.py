"""Procedure steps: current attributes (as DICOM JSON) plus every message exchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

from mppsconsole.core.step import RECEIVED, ROW_FIELDS, StepRow, StepSummary, share_texts

#: The columns save() writes (updated_at is the time of the save).
_COLUMNS = ROW_FIELDS[:-1]
_SELECT = ", ".join(f'"{c}"' for c in ROW_FIELDS)


@dataclasses.dataclass(frozen=True)
class StoredStep:
    summary: StepSummary
    dataset_json: str
    peer: str


@dataclasses.dataclass(frozen=True)
class Message:
    """One DIMSE exchange about a step, as received or sent."""

    sop_instance_uid: str
    time: dt.datetime
    direction: str
    command: str
    calling_ae: str
    peer: str
    status: int
    error_comment: str = ""
    dataset_json: str = ""

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["time"] = self.time.isoformat()
        data["status"] = f"0x{self.status:04X}"
        return data


def exists(conn: sqlite3.Connection, uid: str, direction: str = RECEIVED) -> bool:
    row = conn.execute(
        "SELECT 1 FROM steps WHERE sop_instance_uid = ? AND direction = ?", (uid, direction)
    ).fetchone()
    return row is not None


def get(conn: sqlite3.Connection, uid: str, direction: str | None = None) -> StoredStep | None:
    """The step ``uid`` as received or as sent; without ``direction`` the received one first.

    Both exist when the console's modality side sends to its own SCP.
    """
    sql = f"SELECT {_SELECT}, dataset, peer FROM steps WHERE sop_instance_uid = ?"
    params: tuple[str, ...] = (uid,)
    if direction is not None:
        sql += " AND direction = ?"
        params += (direction,)
    row = conn.execute(sql + " ORDER BY direction = 'sent'", params).fetchone()
    if row is None:
        return None
    return StoredStep(StepSummary.from_row(tuple(row)[:-2]), row["dataset"], row["peer"])


def save(
    conn: sqlite3.Connection, summary: StepSummary, dataset_json: str, peer: str, now: dt.datetime
) -> None:
    """Insert a new step or replace the current attributes of an existing one."""
    values = summary.to_row()[:-1]
    columns = ", ".join(f'"{c}"' for c in _COLUMNS)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in _COLUMNS[1:] if c != "direction")
    conn.execute(
        f"INSERT INTO steps ({columns}, peer, created_at, updated_at, dataset) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?, ?, ?, ?) "
        f"ON CONFLICT (sop_instance_uid, direction) DO UPDATE SET {updates}, "
        "updated_at = excluded.updated_at, dataset = excluded.dataset",
        (*values, peer, now.isoformat(), now.isoformat(), dataset_json),
    )


def add_message(conn: sqlite3.Connection, message: Message) -> None:
    conn.execute(
        "INSERT INTO step_messages (sop_instance_uid, time, direction, command, calling_ae, "
        "peer, status, error_comment, dataset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.sop_instance_uid,
            message.time.isoformat(),
            message.direction,
            message.command,
            message.calling_ae,
            message.peer,
            message.status,
            message.error_comment,
            message.dataset_json,
        ),
    )


def messages(conn: sqlite3.Connection, uid: str, direction: str | None = None) -> list[Message]:
    """Messages about step ``uid`` in the order exchanged (one direction, or both)."""
    sql = (
        "SELECT sop_instance_uid, time, direction, command, calling_ae, peer, status, "
        "error_comment, dataset AS dataset_json FROM step_messages WHERE sop_instance_uid = ?"
    )
    params: tuple[str, ...] = (uid,)
    if direction is not None:
        sql += " AND direction = ?"
        params += (direction,)
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [Message(**{**dict(r), "time": dt.datetime.fromisoformat(r["time"])}) for r in rows]


def list_steps(conn: sqlite3.Connection, status: str | None = None) -> list[StepSummary]:
    """All steps, most recently started first, optionally of one status."""
    return [StepSummary.from_row(row) for row in _rows(conn, status)]


def list_rows(conn: sqlite3.Connection) -> list[StepRow]:
    """All steps as rows (core.step.ROW_FIELDS), most recently started first.

    For the step table: it keeps 100,000 steps as the tuples SQLite hands over, which
    costs a fraction of making a StepSummary of each.
    """
    return list(map(share_texts, _rows(conn, None)))


def _rows(conn: sqlite3.Connection, status: str | None) -> sqlite3.Cursor:
    sql = f"SELECT {_SELECT} FROM steps"
    params: tuple[str, ...] = ()
    if status:
        sql += " WHERE status = ?"
        params = (status,)
    sql += " ORDER BY start DESC, created_at DESC"
    cursor = conn.execute(sql, params)
    cursor.row_factory = None  # plain tuples: no sqlite3.Row per step
    return cursor


def latest_for_study(conn: sqlite3.Connection, study_uid: str) -> str | None:
    """The received step most recently created for a study (to link instances that arrive)."""
    row = conn.execute(
        "SELECT sop_instance_uid FROM steps WHERE study_instance_uid = ? "
        "AND direction = 'received' ORDER BY created_at DESC LIMIT 1",
        (study_uid,),
    ).fetchone()
    return row[0] if row else None
