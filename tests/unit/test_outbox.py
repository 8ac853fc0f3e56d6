"""The MPPS outbox (store): order per step, claims with a lease, cancel cascade."""

from __future__ import annotations

import datetime as dt

from mppsconsole.core.settings import Node
from mppsconsole.store import outbox
from mppsconsole.store.db import Database

NODE = Node("ris", "RIS", "127.0.0.1", 104)
T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(minutes=1)


def _queue(db: Database, step: str, kind: str, due: dt.datetime) -> int:
    with db.transaction() as conn:
        return outbox.enqueue(
            conn, step, kind, "{}", NODE, "CT01", now=T0, next_attempt=due, error="down", attempts=1
        )


def _claim(db: Database, at: dt.datetime, lease: dt.datetime = LATER) -> outbox.Deferred | None:
    with db.transaction() as conn:
        return outbox.claim_due(conn, at, lease)


def test_a_message_waits_for_the_earlier_ones_of_its_step(db: Database) -> None:
    create_a = _queue(db, "A", outbox.N_CREATE, LATER)  # not due yet
    set_a = _queue(db, "A", outbox.N_SET, T0)  # due, but behind its N-CREATE
    create_b = _queue(db, "B", outbox.N_CREATE, T0)  # another step: independent
    claimed = _claim(db, T0)
    assert claimed is not None and claimed.id == create_b
    assert claimed.state == outbox.SENDING and claimed.attempts == 2
    assert _claim(db, T0) is None  # B is claimed (leased), A's N-SET still behind
    with db.transaction() as conn:
        outbox.finish(conn, create_b, outbox.SENT)
    first = _claim(db, LATER)
    assert first is not None and first.id == create_a
    with db.transaction() as conn:
        outbox.finish(conn, create_a, outbox.SENT)
    second = _claim(db, LATER)
    assert second is not None and second.id == set_a


def test_an_expired_claim_is_taken_again_as_maybe_delivered(db: Database) -> None:
    message = _queue(db, "A", outbox.N_CREATE, T0)
    first = _claim(db, T0, lease=T0 + dt.timedelta(seconds=70))
    assert first is not None and not first.maybe_delivered
    assert _claim(db, T0 + dt.timedelta(seconds=60)) is None  # lease still held
    again = _claim(db, T0 + dt.timedelta(seconds=71))  # the sender died mid-send
    assert again is not None and again.id == message and again.maybe_delivered


def test_cancelling_an_n_create_cancels_the_steps_later_messages(db: Database) -> None:
    create = _queue(db, "A", outbox.N_CREATE, T0)
    n_set = _queue(db, "A", outbox.N_SET, T0)
    other = _queue(db, "B", outbox.N_CREATE, T0)
    with db.transaction() as conn:
        assert outbox.cancel(conn, n_set, "user") == [n_set]  # an N-SET goes alone
        assert outbox.cancel(conn, create, "user") == [create]
        assert [m.id for m in outbox.open_messages(conn)] == [other]
        n_set_2 = outbox.enqueue(
            conn,
            "B",
            outbox.N_SET,
            "{}",
            NODE,
            "CT01",
            now=T0,
            next_attempt=T0,
            error="",
            attempts=0,
        )
        assert outbox.cancel(conn, other, "user") == [other, n_set_2]
        assert outbox.open_count(conn) == 0 and outbox.deferred_steps(conn) == set()


def test_times_compare_correctly_across_utc_offsets(db: Database) -> None:
    """Stored in UTC: 10:00+01:00 is due at 09:00Z, whatever offset the caller's clock has."""
    plus_one = dt.timezone(dt.timedelta(hours=1))
    _queue(db, "A", outbox.N_CREATE, dt.datetime(2026, 11, 22, 10, 0, tzinfo=plus_one))
    assert _claim(db, T0 - dt.timedelta(seconds=1)) is None
    assert _claim(db, T0) is not None
