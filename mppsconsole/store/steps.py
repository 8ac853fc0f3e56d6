"""Procedure steps: current attributes (as DICOM JSON) plus every message exchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

from mppsconsole.core.step import RECEIVED, StepSummary

_COLUMNS = (
    "sop_instance_uid",
    "status",
    "direction",
    "patient_name",
    "patient_id",
    "accession_number",
    "modality",
    "station_ae",
    "description",
    "study_instance_uid",
    "start",
    "end",
    "series_count",
    "image_count",
    "calling_ae",
    "finding_count",
    "worst_finding",
)
_SELECT = ", ".join(f'"{c}"' for c in _COLUMNS) + ", updated_at"


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


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary(row: Sequence[Any]) -> StepSummary:
    """A StepSummary from the values of ``_SELECT``, in StepSummary's field order.

    Positional, from a plain tuple: building it from ``dict(sqlite3.Row)`` as keywords
    took over half of loading 100,000 steps. The few-valued columns are interned, so
    100,000 steps share their status, modality, station... strings instead of holding
    a copy each.
    """
    (uid, status, direction, name, patient_id, accession, modality, station, description,
     study, start, end, series, images, calling_ae, findings, worst, updated) = row  # fmt: skip
    return StepSummary(
        uid,
        _intern(status),
        _intern(direction),
        name,
        patient_id,
        accession,
        _intern(modality),
        _intern(station),
        _intern(description),
        study,
        _datetime(start),
        _datetime(end),
        series,
        images,
        _intern(calling_ae),
        _datetime(updated),
        findings,
        _intern(worst),
    )


def _datetime(value: str | None) -> dt.datetime | None:
    return _fromisoformat(value) if value else None


_intern = sys.intern
_fromisoformat = dt.datetime.fromisoformat


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
    return StoredStep(_summary(tuple(row)[:-2]), row["dataset"], row["peer"])


def save(
    conn: sqlite3.Connection, summary: StepSummary, dataset_json: str, peer: str, now: dt.datetime
) -> None:
    """Insert a new step or replace the current attributes of an existing one."""
    values = [getattr(summary, c) for c in _COLUMNS]
    values[_COLUMNS.index("start")] = _iso(summary.start)
    values[_COLUMNS.index("end")] = _iso(summary.end)
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
    sql = f"SELECT {_SELECT} FROM steps"
    params: tuple[str, ...] = ()
    if status:
        sql += " WHERE status = ?"
        params = (status,)
    sql += " ORDER BY start DESC, created_at DESC"
    cursor = conn.execute(sql, params)
    cursor.row_factory = None  # plain tuples: no sqlite3.Row per step
    return [_summary(row) for row in cursor]


def latest_for_study(conn: sqlite3.Connection, study_uid: str) -> str | None:
    """The received step most recently created for a study (to link instances that arrive)."""
    row = conn.execute(
        "SELECT sop_instance_uid FROM steps WHERE study_instance_uid = ? "
        "AND direction = 'received' ORDER BY created_at DESC LIMIT 1",
        (study_uid,),
    ).fetchone()
    return row[0] if row else None
