"""Worklist items, local ones and those cached from remote queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterable

from mppsconsole.core.errors import InputError
from mppsconsole.core.worklist import FINISHED_STATUSES, WorklistItem

_FIELDS = tuple(f.name for f in dataclasses.fields(WorklistItem) if f.name != "id")


def _item(row: sqlite3.Row) -> WorklistItem:
    values = dict(row)
    values["scheduled_start"] = dt.datetime.fromisoformat(values["scheduled_start"])
    return WorklistItem(**values)


def add_many(conn: sqlite3.Connection, items: Iterable[WorklistItem]) -> int:
    """Insert items; a duplicate (same source, study and step ID) is an InputError."""
    count = 0
    for item in items:
        values = [getattr(item, f) for f in _FIELDS]
        values[_FIELDS.index("scheduled_start")] = item.scheduled_start.isoformat()
        try:
            conn.execute(
                f"INSERT INTO worklist_items ({', '.join(_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(_FIELDS))})",
                values,
            )
        except sqlite3.IntegrityError:
            raise InputError(
                f"duplicate worklist item: study {item.study_instance_uid}, "
                f"scheduled step {item.scheduled_step_id}"
            ) from None
        count += 1
    return count


def replace_cached(conn: sqlite3.Connection, source: str, items: Iterable[WorklistItem]) -> None:
    """Cache the result of a remote query: same order replaced, new ones added."""
    for item in items:
        conn.execute(
            "DELETE FROM worklist_items WHERE source = ? AND study_instance_uid = ? "
            "AND scheduled_step_id = ?",
            (source, item.study_instance_uid, item.scheduled_step_id),
        )
        add_many(conn, [dataclasses.replace(item, source=source)])


def list_items(
    conn: sqlite3.Connection, *, source: str | None = "local", include_finished: bool = True
) -> list[WorklistItem]:
    """Items by scheduled start; ``source=None`` lists local and cached items."""
    sql = f"SELECT id, {', '.join(_FIELDS)} FROM worklist_items"
    clauses, params = [], []
    if source is not None:
        clauses.append("source = ?")
        params.append(source)
    if not include_finished:
        clauses.append(f"status NOT IN ({', '.join('?' * len(FINISHED_STATUSES))})")
        params.extend(sorted(FINISHED_STATUSES))
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY scheduled_start, id"
    return [_item(row) for row in conn.execute(sql, params)]


def find_by_accession(conn: sqlite3.Connection, accession: str) -> list[WorklistItem]:
    """Local items first, then cached ones, with this accession number."""
    rows = conn.execute(
        f"SELECT id, {', '.join(_FIELDS)} FROM worklist_items WHERE accession_number = ? "
        "ORDER BY source != 'local', id",
        (accession,),
    )
    return [_item(row) for row in rows]


def set_status_for_references(
    conn: sqlite3.Connection, references: Iterable[tuple[str, str, str]], status: str
) -> int:
    """Move local items referenced by a step to ``status``; the number of items moved.

    A reference is (Study Instance UID, Scheduled Procedure Step ID, Accession
    Number); study + step ID identifies an item exactly, the accession alone is
    the fallback modalities use when they carry no step ID.
    """
    moved = 0
    for study_uid, step_id, accession in references:
        if study_uid and step_id:
            cursor = conn.execute(
                "UPDATE worklist_items SET status = ? WHERE source = 'local' "
                "AND study_instance_uid = ? AND scheduled_step_id = ?",
                (status, study_uid, step_id),
            )
        elif accession:
            cursor = conn.execute(
                "UPDATE worklist_items SET status = ? WHERE source = 'local' "
                "AND accession_number = ?",
                (status, accession),
            )
        else:
            continue
        moved += cursor.rowcount
    return moved


#: Columns a user edit may change: not the source (local stays local) and not the status,
#: which belongs to the procedure steps (an edit must not undo a step that just arrived).
_EDITABLE = tuple(f for f in _FIELDS if f not in ("source", "status"))


def update(conn: sqlite3.Connection, item_id: int, item: WorklistItem) -> bool:
    """Overwrite the local item ``item_id`` with the user's edit; False when it is gone.

    Cached items (another node's orders) are never edited: a re-query would
    silently undo the change. A clash with another item's study and step ID is
    an InputError, like a duplicate in :func:`add_many`.
    """
    values = [getattr(item, f) for f in _EDITABLE]
    values[_EDITABLE.index("scheduled_start")] = item.scheduled_start.isoformat()
    try:
        cursor = conn.execute(
            f"UPDATE worklist_items SET {', '.join(f'{f} = ?' for f in _EDITABLE)} "
            "WHERE id = ? AND source = 'local'",
            [*values, item_id],
        )
    except sqlite3.IntegrityError:
        raise InputError(
            f"duplicate worklist item: study {item.study_instance_uid}, "
            f"scheduled step {item.scheduled_step_id}"
        ) from None
    return cursor.rowcount > 0


def delete(conn: sqlite3.Connection, item_ids: Iterable[int]) -> int:
    """Remove local items by id; the number removed (cached items are left alone)."""
    removed = 0
    for item_id in item_ids:
        cursor = conn.execute(
            "DELETE FROM worklist_items WHERE id = ? AND source = 'local'", (item_id,)
        )
        removed += cursor.rowcount
    return removed


def version(conn: sqlite3.Connection) -> int:
    """A number that changes whenever any connection changed any worklist item."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'worklist_version'").fetchone()
    return int(row[0])


def find_order(
    conn: sqlite3.Connection, study_uid: str, step_id: str, accession: str
) -> WorklistItem | None:
    """The worklist item a procedure step refers to (local first, then cached orders).

    Study + Scheduled Procedure Step ID identify it; the accession alone is the
    fallback for steps that carry no step ID, as in :func:`set_status_for_references`.
    """
    select = f"SELECT id, {', '.join(_FIELDS)} FROM worklist_items WHERE "
    if study_uid and step_id:
        row = conn.execute(
            select + "study_instance_uid = ? AND scheduled_step_id = ? "
            "ORDER BY source != 'local', id LIMIT 1",
            (study_uid, step_id),
        ).fetchone()
    elif accession:
        row = conn.execute(
            select + "accession_number = ? ORDER BY source != 'local', id LIMIT 1", (accession,)
        ).fetchone()
    else:
        row = None
    return _item(row) if row is not None else None
