"""The MPPS outbox: N-CREATE / N-SET messages deferred while their destination is down.

Messages of one step leave strictly in order (``seq``): a row is due only when no
earlier row of its step is still open, so an N-SET never overtakes its N-CREATE.
A sender *claims* a row in a write transaction before sending it (state
``sending`` with a lease in ``next_attempt``), so two processes sharing the
database (``serve`` and the window) never send the same message twice; a claim
whose lease ran out belongs to a sender that died mid-send, and the message may
have been delivered (``maybe_delivered``).

Times are stored in UTC so that SQL compares them as text correctly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3

from mppsconsole.core.settings import Node

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
REFUSED = "refused"
CANCELLED = "cancelled"
OPEN_STATES = (PENDING, SENDING)
N_CREATE = "N-CREATE"
N_SET = "N-SET"


@dataclasses.dataclass(frozen=True)
class Deferred:
    """One queued message and where it stands."""

    id: int
    step_uid: str
    seq: int
    kind: str
    dataset_json: str
    node: Node
    calling_ae: str
    attempts: int
    next_attempt: dt.datetime
    last_error: str
    state: str
    maybe_delivered: bool
    created_at: dt.datetime

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "step_uid": self.step_uid,
            "seq": self.seq,
            "kind": self.kind,
            "destination": f"{self.node.ae_title}@{self.node.host}:{self.node.port}",
            "node": self.node.name,
            "attempts": self.attempts,
            "next_attempt": self.next_attempt.astimezone().isoformat(),
            "last_error": self.last_error,
            "state": self.state,
            "created_at": self.created_at.astimezone().isoformat(),
        }


_SELECT = (
    "SELECT id, step_uid, seq, kind, dataset, node, calling_ae, attempts, next_attempt, "
    "last_error, state, maybe_delivered, created_at FROM mpps_outbox"
)
_OPEN = f"state IN ('{PENDING}', '{SENDING}')"


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _row(row: sqlite3.Row) -> Deferred:
    node = json.loads(row["node"])
    return Deferred(
        id=row["id"],
        step_uid=row["step_uid"],
        seq=row["seq"],
        kind=row["kind"],
        dataset_json=row["dataset"],
        node=Node(node["name"], node["ae_title"], node["host"], node["port"], node["tls"]),
        calling_ae=row["calling_ae"],
        attempts=row["attempts"],
        next_attempt=dt.datetime.fromisoformat(row["next_attempt"]),
        last_error=row["last_error"],
        state=row["state"],
        maybe_delivered=bool(row["maybe_delivered"]),
        created_at=dt.datetime.fromisoformat(row["created_at"]),
    )


def enqueue(
    conn: sqlite3.Connection,
    step_uid: str,
    kind: str,
    dataset_json: str,
    node: Node,
    calling_ae: str,
    *,
    now: dt.datetime,
    next_attempt: dt.datetime,
    error: str,
    attempts: int,
    maybe_delivered: bool = False,
) -> int:
    """Queue a message after the step's earlier ones; its id."""
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM mpps_outbox WHERE step_uid = ?", (step_uid,)
    ).fetchone()[0]
    cursor = conn.execute(
        "INSERT INTO mpps_outbox (step_uid, seq, kind, dataset, node, calling_ae, attempts, "
        "next_attempt, last_error, state, maybe_delivered, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            step_uid,
            seq,
            kind,
            dataset_json,
            json.dumps(dataclasses.asdict(node)),
            calling_ae,
            attempts,
            _utc(next_attempt),
            error,
            PENDING,
            int(maybe_delivered),
            _utc(now),
        ),
    )
    return int(cursor.lastrowid or 0)


def get(conn: sqlite3.Connection, message_id: int) -> Deferred | None:
    row = conn.execute(f"{_SELECT} WHERE id = ?", (message_id,)).fetchone()
    return _row(row) if row else None


def open_messages(conn: sqlite3.Connection) -> list[Deferred]:
    """Everything still waiting to be sent, oldest first."""
    return [_row(r) for r in conn.execute(f"{_SELECT} WHERE {_OPEN} ORDER BY id")]


def open_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM mpps_outbox WHERE {_OPEN}").fetchone()[0])


def deferred_steps(conn: sqlite3.Connection) -> set[str]:
    """Steps with a message still waiting (shown as deferred)."""
    return {r[0] for r in conn.execute(f"SELECT DISTINCT step_uid FROM mpps_outbox WHERE {_OPEN}")}


def has_open(conn: sqlite3.Connection, step_uid: str) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM mpps_outbox WHERE step_uid = ? AND {_OPEN} LIMIT 1", (step_uid,)
    ).fetchone()
    return row is not None


def next_due(conn: sqlite3.Connection) -> dt.datetime | None:
    """When the earliest open message may be tried (to sleep until then)."""
    row = conn.execute(f"SELECT MIN(next_attempt) FROM mpps_outbox WHERE {_OPEN}").fetchone()
    return dt.datetime.fromisoformat(row[0]) if row and row[0] else None


def claim_due(conn: sqlite3.Connection, now: dt.datetime, lease: dt.datetime) -> Deferred | None:
    """Take the oldest due message that is first in its step's line; None when none is due."""
    row = conn.execute(
        f"{_SELECT} AS o WHERE {_OPEN} AND next_attempt <= ? AND NOT EXISTS ("
        f"SELECT 1 FROM mpps_outbox AS e WHERE e.step_uid = o.step_uid AND e.seq < o.seq "
        f"AND e.{_OPEN}) ORDER BY next_attempt, id LIMIT 1",
        (_utc(now),),
    ).fetchone()
    if row is None:
        return None
    # A claim found still 'sending' was left by a sender that died mid-send.
    conn.execute(
        "UPDATE mpps_outbox SET state = ?, attempts = attempts + 1, next_attempt = ?, "
        "maybe_delivered = maybe_delivered OR state = ? WHERE id = ?",
        (SENDING, _utc(lease), SENDING, row["id"]),
    )
    return get(conn, row["id"])


def reschedule(
    conn: sqlite3.Connection,
    message_id: int,
    next_attempt: dt.datetime,
    error: str,
    *,
    maybe_delivered: bool,
) -> None:
    """Back to waiting after an attempt that reached nobody."""
    conn.execute(
        "UPDATE mpps_outbox SET state = ?, next_attempt = ?, last_error = ?, "
        "maybe_delivered = maybe_delivered OR ? WHERE id = ?",
        (PENDING, _utc(next_attempt), error, int(maybe_delivered), message_id),
    )


def finish(conn: sqlite3.Connection, message_id: int, state: str, error: str = "") -> None:
    """Sent, or refused by the peer (a real answer: never retried)."""
    conn.execute(
        "UPDATE mpps_outbox SET state = ?, last_error = ? WHERE id = ?",
        (state, error, message_id),
    )


def retry_now(conn: sqlite3.Connection, now: dt.datetime, message_id: int | None = None) -> int:
    """Make waiting messages (one, or all) due at once; how many."""
    sql = "UPDATE mpps_outbox SET next_attempt = ? WHERE state = ?"
    params: tuple[object, ...] = (_utc(now), PENDING)
    if message_id is not None:
        sql += " AND id = ?"
        params += (message_id,)
    return conn.execute(sql, params).rowcount


def cancel(conn: sqlite3.Connection, message_id: int, reason: str) -> list[int]:
    """Cancel a waiting message; cancelling an N-CREATE cancels the step's later ones too.

    The ids cancelled (none when the message is no longer open).
    """
    message = get(conn, message_id)
    if message is None or message.state not in OPEN_STATES:
        return []
    ids = [message_id]
    if message.kind == N_CREATE:
        ids += later_open(conn, message.step_uid, message.seq)
    conn.executemany(
        "UPDATE mpps_outbox SET state = ?, last_error = ? WHERE id = ?",
        [(CANCELLED, reason, i) for i in ids],
    )
    return ids


def later_open(conn: sqlite3.Connection, step_uid: str, seq: int) -> list[int]:
    """Open messages queued after ``seq`` for the same step."""
    rows = conn.execute(
        f"SELECT id FROM mpps_outbox WHERE step_uid = ? AND seq > ? AND {_OPEN} ORDER BY seq",
        (step_uid, seq),
    )
    return [r[0] for r in rows]
