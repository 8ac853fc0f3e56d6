"""Composite instances received by the storage SCP (or sent by us) and their step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterable


@dataclasses.dataclass(frozen=True)
class Instance:
    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax: str
    path: str
    size: int
    calling_ae: str
    received_at: dt.datetime
    step_uid: str | None = None
    direction: str = "received"

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data


_FIELDS = tuple(f.name for f in dataclasses.fields(Instance))


def save(conn: sqlite3.Connection, instance: Instance) -> None:
    """Record an instance; a re-sent instance replaces the earlier record (same file)."""
    values = [getattr(instance, f) for f in _FIELDS]
    values[_FIELDS.index("received_at")] = instance.received_at.isoformat()
    conn.execute(
        f"INSERT OR REPLACE INTO instances ({', '.join(_FIELDS)}) "
        f"VALUES ({', '.join('?' * len(_FIELDS))})",
        values,
    )


def link(conn: sqlite3.Connection, step_uid: str, sop_instance_uids: Iterable[str]) -> None:
    conn.executemany(
        "UPDATE instances SET step_uid = ? WHERE sop_instance_uid = ?",
        [(step_uid, uid) for uid in sop_instance_uids],
    )


def for_step(conn: sqlite3.Connection, step_uid: str) -> list[Instance]:
    rows = conn.execute(
        f"SELECT {', '.join(_FIELDS)} FROM instances WHERE step_uid = ? ORDER BY received_at",
        (step_uid,),
    )
    return [
        Instance(**{**dict(r), "received_at": dt.datetime.fromisoformat(r["received_at"])})
        for r in rows
    ]


def held(conn: sqlite3.Connection, sop_instance_uids: Iterable[str]) -> dict[str, Instance]:
    """The instances among ``sop_instance_uids`` that were received, by SOP Instance UID.

    Only received instances count: one we merely sent is not held by us.
    """
    found: dict[str, Instance] = {}
    for uid in sop_instance_uids:
        row = conn.execute(
            f"SELECT {', '.join(_FIELDS)} FROM instances "
            "WHERE sop_instance_uid = ? AND direction = 'received'",
            (uid,),
        ).fetchone()
        if row is not None:
            found[uid] = Instance(
                **{**dict(row), "received_at": dt.datetime.fromisoformat(row["received_at"])}
            )
    return found
