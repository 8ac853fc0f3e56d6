"""Editing and deleting local worklist items (the GUI's Edit… and Delete)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from mppsconsole.core.errors import InputError
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.store import worklist
from mppsconsole.store.db import Database
from tests.unit.test_store import order


def local_items(db: Database) -> list[WorklistItem]:
    with db.reading() as conn:
        return worklist.list_items(conn)


def only_local_id(db: Database) -> int:
    (item,) = local_items(db)
    assert item.id is not None
    return item.id


def test_update_changes_the_user_fields(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
    item_id = only_local_id(db)
    edited = order(
        patient_name="Roe^Richard",
        patient_id="P9",
        modality="MR",
        scheduled_start=dt.datetime(2026, 11, 22, 14, 30),
        accession_number="A9",
        description="MR knee",
        scheduled_station_ae="MR1",
        birth_date="19700101",
        sex="M",
    )
    with db.transaction() as conn:
        assert worklist.update(conn, item_id, edited) is True
    (stored,) = local_items(db)
    assert stored == dataclasses.replace(edited, id=item_id)


def test_update_keeps_status_and_source(db: Database) -> None:
    """The status belongs to the procedure steps; an edit open meanwhile must not undo it."""
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
        worklist.set_status_for_references(conn, [("1.2.3", "SPS1", "A1")], "STARTED")
    item_id = only_local_id(db)
    with db.transaction() as conn:
        worklist.update(conn, item_id, order(description="new", status="SCHEDULED", source="x"))
    (stored,) = local_items(db)
    assert (stored.description, stored.status, stored.source) == ("new", "STARTED", "local")


def test_update_of_a_missing_item_reports_false(db: Database) -> None:
    with db.transaction() as conn:
        assert worklist.update(conn, 12345, order()) is False
    assert local_items(db) == []


def test_update_never_touches_cached_items(db: Database) -> None:
    with db.transaction() as conn:
        worklist.replace_cached(conn, "ris", [order()])
    with db.reading() as conn:
        (cached,) = worklist.list_items(conn, source="ris")
    assert cached.id is not None
    with db.transaction() as conn:
        assert worklist.update(conn, cached.id, order(description="changed")) is False
    with db.reading() as conn:
        assert worklist.list_items(conn, source="ris") == [cached]


def test_update_into_a_duplicate_is_an_input_error_and_rolls_back(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order("SPS1"), order("SPS2")])
    first, second = local_items(db)
    assert second.id is not None
    with pytest.raises(InputError, match="duplicate"), db.transaction() as conn:
        worklist.update(conn, second.id, dataclasses.replace(second, scheduled_step_id="SPS1"))
    assert local_items(db) == [first, second]


def test_delete_removes_only_the_given_local_items(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order("SPS1"), order("SPS2"), order("SPS3")])
        worklist.replace_cached(conn, "ris", [order("SPS1")])
    first, second, third = local_items(db)
    with db.reading() as conn:
        (cached,) = worklist.list_items(conn, source="ris")
    assert first.id is not None and third.id is not None and cached.id is not None
    with db.transaction() as conn:
        assert worklist.delete(conn, [first.id, third.id, cached.id, 999_999]) == 2
    assert local_items(db) == [second]
    with db.reading() as conn:
        assert worklist.list_items(conn, source="ris") == [cached]


def test_delete_of_nothing_is_a_no_op(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
        assert worklist.delete(conn, []) == 0
    assert len(local_items(db)) == 1
