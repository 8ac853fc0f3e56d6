"""SQLite store: migrations, transactions, repositories, and concurrent use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mppsconsole.core.errors import InputError, UserError
from mppsconsole.core.step import RECEIVED, SENT, StepSummary, summarize
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.store import instances, steps, worklist
from mppsconsole.store.db import Database
from mppsconsole.store.migrations import MIGRATIONS

NOW = dt.datetime(2026, 11, 21, 10, 20, 30, 123456)


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def summary(uid: str = "1.2.3.100", **overrides: object) -> StepSummary:
    base = StepSummary(
        sop_instance_uid=uid,
        status="IN PROGRESS",
        direction=RECEIVED,
        patient_name="Doe^Jane",
        patient_id="P1",
        accession_number="A1",
        modality="CT",
        station_ae="CT1",
        description="CT chest",
        study_instance_uid="1.2.3",
        start=dt.datetime(2026, 11, 21, 10, 15, 0),
        end=None,
        series_count=0,
        image_count=0,
        calling_ae="CT1",
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def order(step_id: str = "SPS1", **overrides: object) -> WorklistItem:
    base = WorklistItem(
        patient_name="Doe^Jane",
        patient_id="P1",
        modality="CT",
        scheduled_start=dt.datetime(2026, 11, 21, 9, 0),
        accession_number="A1",
        study_instance_uid="1.2.3",
        requested_procedure_id="RP1",
        scheduled_step_id=step_id,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def instance(uid: str, **overrides: object) -> instances.Instance:
    base = instances.Instance(
        sop_instance_uid=uid,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        study_instance_uid="1.2.3",
        series_instance_uid="1.2.3.4",
        transfer_syntax="1.2.840.10008.1.2.1",
        path=f"/data/images/1.2.3/1.2.3.4/{uid}.dcm",
        size=1234,
        calling_ae="CT1",
        received_at=NOW,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


# --- opening and migrations ----------------------------------------------------


def test_new_database_is_migrated_to_the_latest_schema(db: Database) -> None:
    assert user_version(db.path) == len(MIGRATIONS)
    with db.reading() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert {"steps", "step_messages", "worklist_items", "instances"} <= tables


@pytest.mark.parametrize(("durability", "level"), [("full", 2), ("normal", 1)])
def test_durability_sets_synchronous(data_dir: Path, durability: str, level: int) -> None:
    database = Database(data_dir / "d.sqlite3", durability=durability)
    try:
        with database.reading() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == level
    finally:
        database.close()


def test_reopening_keeps_data_and_schema(data_dir: Path) -> None:
    path = data_dir / "db.sqlite3"
    first = Database(path)
    with first.transaction() as conn:
        worklist.add_many(conn, [order()])
    first.close()
    for _ in range(2):
        again = Database(path)
        try:
            with again.reading() as conn:
                assert [i.scheduled_step_id for i in worklist.list_items(conn)] == ["SPS1"]
        finally:
            again.close()
    assert user_version(path) == len(MIGRATIONS)


def test_database_from_a_newer_version_is_refused(data_dir: Path) -> None:
    path = data_dir / "newer.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(UserError, match="newer MPPS Console") as info:
        Database(path)
    assert str(path) in str(info.value)
    assert user_version(path) == len(MIGRATIONS) + 1  # left untouched


def test_file_that_is_not_a_database_is_a_user_error(data_dir: Path) -> None:
    path = data_dir / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="cannot open the database") as info:
        Database(path)
    assert str(path) in str(info.value)


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "db.sqlite3"
    Database(path).close()
    assert path.exists()


# --- transactions -------------------------------------------------------------


class Boom(Exception):
    pass


def test_transaction_rolls_back_on_exception(db: Database) -> None:
    with pytest.raises(Boom), db.transaction() as conn:
        worklist.add_many(conn, [order("SPS1"), order("SPS2")])
        steps.save(conn, summary(), "{}", "127.0.0.1:1", NOW)
        raise Boom
    with db.reading() as conn:
        assert worklist.list_items(conn) == []
        assert steps.get(conn, summary().sop_instance_uid) is None


def test_database_is_usable_after_a_rollback(db: Database) -> None:
    with pytest.raises(Boom), db.transaction():
        raise Boom
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
    with db.reading() as conn:
        assert len(worklist.list_items(conn)) == 1


def test_transaction_commits_when_the_block_ends(db: Database, data_dir: Path) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
    # Visible to a different connection: committed, not just written.
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM worklist_items").fetchone()[0] == 1
    finally:
        conn.close()


# --- steps --------------------------------------------------------------------


CONTRACT_KEYS = {
    "sop_instance_uid",
    "status",
    "direction",
    "patient_name",
    "patient_id",
    "accession_number",
    "modality",
    "station_ae",
    "start",
    "end",
    "series_count",
    "image_count",
    "calling_ae",
}


def test_step_round_trips(db: Database) -> None:
    step = summary(end=dt.datetime(2026, 11, 21, 10, 45, 5, 250000), series_count=2)
    with db.transaction() as conn:
        steps.save(conn, step, '{"k": 1}', "10.0.0.7:5000", NOW)
    with db.reading() as conn:
        stored = steps.get(conn, step.sop_instance_uid)
        assert steps.exists(conn, step.sop_instance_uid)
        assert not steps.exists(conn, "9.9.9")
        assert steps.get(conn, "9.9.9") is None
    assert stored is not None
    assert stored.summary == dataclasses.replace(step, updated_at=NOW)
    assert stored.dataset_json == '{"k": 1}'
    assert stored.peer == "10.0.0.7:5000"


def test_step_json_has_the_contract_fields(db: Database) -> None:
    with db.transaction() as conn:
        steps.save(conn, summary(), "{}", "", NOW)
    with db.reading() as conn:
        stored = steps.get(conn, summary().sop_instance_uid)
    assert stored is not None
    data = stored.summary.to_json()
    assert set(data) >= CONTRACT_KEYS
    assert data["sop_instance_uid"] == "1.2.3.100"
    assert data["status"] == "IN PROGRESS"
    assert data["direction"] == "received"
    assert data["patient_name"] == "Doe^Jane"
    assert data["patient_id"] == "P1"
    assert data["accession_number"] == "A1"
    assert data["modality"] == "CT"
    assert data["station_ae"] == "CT1"
    assert data["start"] == "2026-11-21T10:15:00"
    assert data["end"] is None
    assert data["series_count"] == 0
    assert data["image_count"] == 0
    assert data["calling_ae"] == "CT1"
    assert dt.datetime.fromisoformat(data["start"]) == summary().start


def test_saving_again_updates_the_step_and_keeps_its_creation_time(db: Database) -> None:
    uid = summary().sop_instance_uid
    later = NOW + dt.timedelta(minutes=30)
    with db.transaction() as conn:
        steps.save(conn, summary(), "{}", "peer", NOW)
    completed = summary(
        status="COMPLETED",
        end=dt.datetime(2026, 11, 21, 10, 50),
        series_count=1,
        image_count=3,
    )
    with db.transaction() as conn:
        steps.save(conn, completed, '{"done": true}', "peer", later)
    with db.reading() as conn:
        stored = steps.get(conn, uid)
        created = conn.execute(
            "SELECT created_at FROM steps WHERE sop_instance_uid = ?", (uid,)
        ).fetchone()[0]
        assert len(steps.list_steps(conn)) == 1
    assert stored is not None
    assert stored.summary == dataclasses.replace(completed, updated_at=later)
    assert stored.dataset_json == '{"done": true}'
    assert created == NOW.isoformat()


def test_the_same_step_sent_and_received_is_kept_twice(db: Database) -> None:
    """The console's modality side may send a step to its own SCP: two records, one UID."""
    uid = summary().sop_instance_uid
    with db.transaction() as conn:
        steps.save(conn, summary(direction=RECEIVED), '{"as": "received"}', "peer", NOW)
        steps.save(conn, summary(direction=SENT, status="COMPLETED"), '{"as": "sent"}', "p", NOW)
    with db.reading() as conn:
        received = steps.get(conn, uid, RECEIVED)
        sent = steps.get(conn, uid, SENT)
        preferred = steps.get(conn, uid)
        listed = steps.list_steps(conn)
        assert steps.exists(conn, uid, SENT) and steps.exists(conn, uid)
    assert received is not None and received.dataset_json == '{"as": "received"}'
    assert sent is not None and sent.summary.status == "COMPLETED"
    assert preferred == received
    assert sorted(s.direction for s in listed) == [RECEIVED, SENT]


def test_list_steps_newest_start_first_and_by_status(db: Database) -> None:
    with db.transaction() as conn:
        for n, (hour, status) in enumerate(
            [(9, "COMPLETED"), (11, "IN PROGRESS"), (10, "COMPLETED")]
        ):
            steps.save(
                conn,
                summary(f"1.2.3.{n}", status=status, start=dt.datetime(2026, 11, 21, hour)),
                "{}",
                "",
                NOW,
            )
        steps.save(conn, summary("1.2.3.9", start=None), "{}", "", NOW)
    with db.reading() as conn:
        everything = steps.list_steps(conn)
        completed = steps.list_steps(conn, "COMPLETED")
        discontinued = steps.list_steps(conn, "DISCONTINUED")
    assert [s.sop_instance_uid for s in everything] == ["1.2.3.1", "1.2.3.2", "1.2.3.0", "1.2.3.9"]
    assert [s.sop_instance_uid for s in completed] == ["1.2.3.2", "1.2.3.0"]
    assert discontinued == []


def test_list_rows_are_the_listed_steps_as_rows_sharing_their_few_valued_texts(
    db: Database,
) -> None:
    """The step table keeps rows: the same steps, order and values as list_steps."""
    with db.transaction() as conn:
        for n in range(3):
            start = dt.datetime(2026, 11, 21, 9 + n, tzinfo=dt.timezone(dt.timedelta(hours=1)))
            steps.save(conn, summary(f"1.2.3.{n}", start=start, end=None), "{}", "", NOW)
    with db.reading() as conn:
        rows = steps.list_rows(conn)
        listed = steps.list_steps(conn)
    assert [StepSummary.from_row(r) for r in rows] == listed
    assert [s.to_row() for s in listed] == rows
    assert rows[0][1] is rows[2][1]  # status: one string, not a copy per row


def test_messages_round_trip_in_order(db: Database) -> None:
    uid = summary().sop_instance_uid
    sent = [
        steps.Message(uid, NOW, RECEIVED, "N-CREATE", "CT1", "10.0.0.7:5000", 0x0000, "", "{}"),
        steps.Message(
            uid,
            NOW + dt.timedelta(seconds=1),
            RECEIVED,
            "N-SET",
            "CT1",
            "10.0.0.7:5001",
            0x0110,
            "Performed Procedure Step Object may no longer be updated",
            '{"x": 1}',
        ),
        steps.Message(uid, NOW + dt.timedelta(seconds=2), SENT, "N-GET", "", "", 0x0000),
    ]
    with db.transaction() as conn:
        for message in sent:
            steps.add_message(conn, message)
        steps.add_message(conn, dataclasses.replace(sent[0], sop_instance_uid="other"))
    with db.reading() as conn:
        assert steps.messages(conn, uid) == sent
        assert steps.messages(conn, "none") == []
    data = sent[1].to_json()
    assert data["status"] == "0x0110"
    assert data["time"] == (NOW + dt.timedelta(seconds=1)).isoformat()


def test_summarized_dataset_round_trips(db: Database) -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "P1"
    ds.Modality = "CT"
    ds.PerformedStationAETitle = "CT1"
    ds.PerformedProcedureStepStatus = "COMPLETED"
    ds.PerformedProcedureStepStartDate = "20261121"
    ds.PerformedProcedureStepStartTime = "101500"
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "104500"
    scheduled = Dataset()
    scheduled.StudyInstanceUID = "1.2.3"
    scheduled.AccessionNumber = "A1"
    ds.ScheduledStepAttributesSequence = Sequence([scheduled])
    series = []
    for n, count in enumerate((2, 3)):
        item = Dataset()
        item.SeriesInstanceUID = f"1.2.3.{n}"
        refs = []
        for m in range(count):
            ref = Dataset()
            ref.ReferencedSOPInstanceUID = f"1.2.3.{n}.{m}"
            refs.append(ref)
        item.ReferencedImageSequence = Sequence(refs)
        series.append(item)
    ds.PerformedSeriesSequence = Sequence(series)
    step = summarize("1.2.3.100", ds, direction=RECEIVED, calling_ae="CT1")
    with db.transaction() as conn:
        steps.save(conn, step, "{}", "", NOW)
    with db.reading() as conn:
        stored = steps.get(conn, "1.2.3.100")
    assert stored is not None
    data = stored.summary.to_json()
    assert (data["series_count"], data["image_count"]) == (2, 5)
    assert (data["start"], data["end"]) == ("2026-11-21T10:15:00", "2026-11-21T10:45:00")
    assert (data["accession_number"], data["study_instance_uid"]) == ("A1", "1.2.3")
    with db.reading() as conn:
        assert steps.latest_for_study(conn, "1.2.3") == "1.2.3.100"
        assert steps.latest_for_study(conn, "9.9") is None


def test_latest_for_study_is_the_most_recently_created(db: Database) -> None:
    with db.transaction() as conn:
        steps.save(conn, summary("1.1"), "{}", "", NOW)
        steps.save(conn, summary("1.2"), "{}", "", NOW + dt.timedelta(seconds=5))
        # An update of the older step does not make it the latest one.
        steps.save(
            conn, summary("1.1", status="COMPLETED"), "{}", "", NOW + dt.timedelta(seconds=9)
        )
    with db.reading() as conn:
        assert steps.latest_for_study(conn, "1.2.3") == "1.2"


# --- worklist -----------------------------------------------------------------


def test_worklist_items_round_trip_in_scheduled_order(db: Database) -> None:
    late = order("SPS2", scheduled_start=dt.datetime(2026, 11, 21, 15, 0), description="late")
    early = order("SPS1", sex="F", birth_date="19800115", scheduled_station_ae="CT1")
    with db.transaction() as conn:
        assert worklist.add_many(conn, [late, early]) == 2
    with db.reading() as conn:
        listed = worklist.list_items(conn)
    assert [dataclasses.replace(i, id=None) for i in listed] == [early, late]
    assert all(i.id is not None for i in listed)


def test_duplicate_item_is_an_input_error_and_rolls_back_the_whole_batch(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order("SPS0")])
    batch = [order("SPS1"), order("SPS2"), order("SPS1", patient_id="P9")]
    with (
        pytest.raises(InputError, match="duplicate worklist item") as info,
        db.transaction() as conn,
    ):
        worklist.add_many(conn, batch)
    assert "SPS1" in str(info.value)
    assert "1.2.3" in str(info.value)
    with db.reading() as conn:
        assert [i.scheduled_step_id for i in worklist.list_items(conn)] == ["SPS0"]


def test_duplicate_of_a_stored_item_is_refused(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order()])
    with pytest.raises(InputError), db.transaction() as conn:
        worklist.add_many(conn, [order(accession_number="A2")])


def test_same_order_may_exist_locally_and_cached(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order(), order(source="ris")])
    with db.reading() as conn:
        assert len(worklist.list_items(conn)) == 1
        assert len(worklist.list_items(conn, source="ris")) == 1
        assert len(worklist.list_items(conn, source=None)) == 2


def test_list_items_can_hide_finished_items(db: Database) -> None:
    statuses = ["SCHEDULED", "STARTED", "COMPLETED", "DISCONTINUED"]
    with db.transaction() as conn:
        worklist.add_many(conn, [order(f"SPS{n}", status=s) for n, s in enumerate(statuses)])
    with db.reading() as conn:
        shown = worklist.list_items(conn, include_finished=False)
        everything = worklist.list_items(conn)
    assert [i.status for i in shown] == ["SCHEDULED", "STARTED"]
    assert len(everything) == 4


def test_status_follows_references_by_study_and_step_id(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(
            conn,
            [
                order("SPS1"),
                order("SPS2"),  # same accession, another step of the same order
                order("SPS1", study_instance_uid="1.2.4"),  # same step ID, another study
                order("SPS1", source="ris"),  # a cached copy is not ours to change
            ],
        )
        moved = worklist.set_status_for_references(conn, [("1.2.3", "SPS1", "A1")], "STARTED")
    assert moved == 1
    with db.reading() as conn:
        states = {
            (i.source, i.study_instance_uid, i.scheduled_step_id): i.status
            for i in worklist.list_items(conn, source=None)
        }
    assert states == {
        ("local", "1.2.3", "SPS1"): "STARTED",
        ("local", "1.2.3", "SPS2"): "SCHEDULED",
        ("local", "1.2.4", "SPS1"): "SCHEDULED",
        ("ris", "1.2.3", "SPS1"): "SCHEDULED",
    }


def test_status_falls_back_to_the_accession_without_step_id(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(
            conn,
            [
                order("SPS1"),
                order("SPS2"),
                order("SPS3", accession_number="A2"),
                order("SPS4", source="ris"),
            ],
        )
        moved = worklist.set_status_for_references(conn, [("1.2.3", "", "A1")], "COMPLETED")
        nothing = worklist.set_status_for_references(conn, [("", "", "")], "COMPLETED")
    assert (moved, nothing) == (2, 0)
    with db.reading() as conn:
        states = {i.scheduled_step_id: i.status for i in worklist.list_items(conn, source=None)}
    assert states == {
        "SPS1": "COMPLETED",
        "SPS2": "COMPLETED",
        "SPS3": "SCHEDULED",
        "SPS4": "SCHEDULED",
    }


def test_group_case_moves_every_referenced_item(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, [order("SPS1"), order("SPS2"), order("SPS3")])
        moved = worklist.set_status_for_references(
            conn, [("1.2.3", "SPS1", "A1"), ("1.2.3", "SPS3", "A1")], "DISCONTINUED"
        )
    assert moved == 2
    with db.reading() as conn:
        shown = worklist.list_items(conn, include_finished=False)
    assert [i.scheduled_step_id for i in shown] == ["SPS2"]


def test_find_by_accession_lists_local_items_first(db: Database) -> None:
    with db.transaction() as conn:
        worklist.add_many(
            conn, [order("SPS1", source="ris"), order("SPS2"), order("SPS3", accession_number="A2")]
        )
        found = worklist.find_by_accession(conn, "A1")
    assert [(i.source, i.scheduled_step_id) for i in found] == [("local", "SPS2"), ("ris", "SPS1")]


def test_replace_cached_replaces_the_same_order(db: Database) -> None:
    with db.transaction() as conn:
        worklist.replace_cached(conn, "ris", [order("SPS1"), order("SPS2")])
        worklist.replace_cached(conn, "ris", [order("SPS1", description="updated"), order("SPS3")])
    with db.reading() as conn:
        cached = worklist.list_items(conn, source="ris")
        local = worklist.list_items(conn)
    assert sorted((i.scheduled_step_id, i.description) for i in cached) == [
        ("SPS1", "updated"),
        ("SPS2", ""),
        ("SPS3", ""),
    ]
    assert local == []


# --- instances ----------------------------------------------------------------


def test_instances_save_link_and_list_for_step(db: Database) -> None:
    with db.transaction() as conn:
        instances.save(conn, instance("1.9.2", received_at=NOW + dt.timedelta(seconds=2)))
        instances.save(conn, instance("1.9.1"))
        instances.save(conn, instance("1.9.3"))
        instances.link(conn, "1.2.3.100", ["1.9.1", "1.9.2", "1.9.404"])
    with db.reading() as conn:
        linked = instances.for_step(conn, "1.2.3.100")
        others = instances.for_step(conn, "1.2.3.999")
    assert [i.sop_instance_uid for i in linked] == ["1.9.1", "1.9.2"]
    assert linked[0] == instance("1.9.1", step_uid="1.2.3.100")
    assert others == []
    assert linked[0].to_json()["received_at"] == NOW.isoformat()


def test_held_returns_only_recorded_instances(db: Database) -> None:
    with db.transaction() as conn:
        instances.save(conn, instance("1.9.1"))
        instances.save(conn, instance("1.9.2", step_uid="1.2.3.100"))
    with db.reading() as conn:
        held = instances.held(conn, ["1.9.1", "1.9.2", "1.9.3"])
        assert instances.held(conn, []) == {}
    assert set(held) == {"1.9.1", "1.9.2"}
    assert held["1.9.2"] == instance("1.9.2", step_uid="1.2.3.100")


def test_resent_instance_replaces_its_record(db: Database) -> None:
    with db.transaction() as conn:
        instances.save(conn, instance("1.9.1", size=10))
        instances.save(conn, instance("1.9.1", size=20))
    with db.reading() as conn:
        held = instances.held(conn, ["1.9.1"])
        count = conn.execute("SELECT COUNT(*) FROM instances").fetchone()[0]
    assert count == 1
    assert held["1.9.1"].size == 20


# --- several connections and threads -------------------------------------------


def test_second_database_reads_what_the_first_committed(db: Database) -> None:
    other = Database(db.path)  # the CLI beside a running SCP
    try:
        with db.transaction() as conn:
            steps.save(conn, summary(), "{}", "", NOW)
        with other.reading() as conn:
            stored = steps.get(conn, summary().sop_instance_uid)
        assert stored is not None
        assert stored.summary.status == "IN PROGRESS"
        with other.transaction() as conn:
            steps.save(conn, summary(status="COMPLETED"), "{}", "", NOW)
        with db.reading() as conn:
            again = steps.get(conn, summary().sop_instance_uid)
        assert again is not None
        assert again.summary.status == "COMPLETED"
    finally:
        other.close()


def test_reader_is_not_blocked_by_an_open_write_and_sees_only_commits(db: Database) -> None:
    other = Database(db.path)
    try:
        with db.transaction() as conn:
            worklist.add_many(conn, [order("SPS1")])
            # WAL: the other connection reads the last committed state meanwhile.
            with other.reading() as reader:
                assert worklist.list_items(reader) == []
        with other.reading() as reader:
            assert len(worklist.list_items(reader)) == 1
    finally:
        other.close()


def test_second_writer_waits_for_the_first_instead_of_failing(db: Database) -> None:
    other = Database(db.path)
    errors: list[BaseException] = []
    started = threading.Event()

    def write() -> None:
        try:
            started.set()
            with other.transaction() as conn:
                worklist.add_many(conn, [order("SPS2")])
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    try:
        with db.transaction() as conn:
            worklist.add_many(conn, [order("SPS1")])
            thread = threading.Thread(target=write)
            thread.start()
            started.wait(5)
            thread.join(0.2)
            assert thread.is_alive()  # queued behind our write lock
        thread.join(10)
        assert not thread.is_alive()
        assert errors == []
        with db.reading() as conn:
            assert [i.scheduled_step_id for i in worklist.list_items(conn)] == ["SPS1", "SPS2"]
    finally:
        other.close()


def run_threads(count: int, target) -> list[BaseException]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait(10)
            target(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_concurrent_transactions_from_many_threads_all_land(db: Database) -> None:
    def work(n: int) -> None:
        for m in range(50):
            uid = f"1.2.{n}.{m}"
            with db.transaction() as conn:
                steps.save(conn, summary(uid), "{}", "", NOW)
                steps.add_message(conn, steps.Message(uid, NOW, RECEIVED, "N-CREATE", "CT1", "", 0))

    assert run_threads(8, work) == []
    with db.reading() as conn:
        assert len(steps.list_steps(conn)) == 400
        assert conn.execute("SELECT COUNT(*) FROM step_messages").fetchone()[0] == 400


def test_concurrent_writes_through_two_connections_all_land(db: Database) -> None:
    other = Database(db.path)
    try:

        def work(n: int) -> None:
            database = db if n % 2 else other
            for m in range(25):
                with database.transaction() as conn:
                    worklist.add_many(conn, [order(f"SPS{n}-{m}")])

        assert run_threads(8, work) == []
        with other.reading() as conn:
            assert len(worklist.list_items(conn)) == 200
    finally:
        other.close()
