"""The audit trail: mapping events to ATNA-like records, de-identification, the audit table."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from mppsconsole.core import audit
from mppsconsole.core.events import EventHub, Subject, Traffic
from mppsconsole.store import audit as audit_store
from mppsconsole.store.db import Database
from mppsconsole.store.migrations import MIGRATIONS

T0 = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PATIENT = Subject("1.2.840.10008.3.1.2.3.3", "1.2.3.4", "PID-777", "Doe^Jane", "ACC-9")


def line(command: str, status: str, direction: str = "in", **kw: object) -> Traffic:
    return Traffic(T0, direction, "MOD1@127.0.0.1:4000", command, status, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("command", "status", "direction", "event", "action", "outcome"),
    [
        ("ASSOCIATE", "accepted", "in", audit.APPLICATION_ACTIVITY, "E", 0),
        ("ASSOCIATE", "rejected: called AE not recognised", "in", audit.SECURITY_ALERT, "E", 4),
        ("RELEASE", "released", "in", audit.APPLICATION_ACTIVITY, "E", 0),
        ("ABORT", "aborted", "in", audit.APPLICATION_ACTIVITY, "E", 4),
        ("C-ECHO", "0x0000", "in", audit.APPLICATION_ACTIVITY, "E", 0),
        ("N-CREATE", "0x0000", "in", audit.PROCEDURE_RECORD, "C", 0),
        ("N-CREATE", "0x0111", "in", audit.PROCEDURE_RECORD, "C", 4),
        ("N-SET", "0x0110", "in", audit.PROCEDURE_RECORD, "U", 8),
        ("N-GET", "0x0000", "in", audit.PROCEDURE_RECORD, "R", 0),
        ("C-FIND", "0xFF00", "in", audit.QUERY, "E", 0),
        ("C-STORE", "0x0000", "in", audit.INSTANCES_TRANSFERRED, "C", 0),
        ("C-STORE", "0xA700", "in", audit.INSTANCES_TRANSFERRED, "C", 4),
        ("C-STORE", "0xC000", "in", audit.INSTANCES_TRANSFERRED, "C", 8),
        ("C-STORE", "0x0000", "out", audit.BEGIN_TRANSFERRING, "E", 0),
        ("N-ACTION", "0x0000", "in", audit.INSTANCES_TRANSFERRED, "E", 0),
        ("N-EVENT-REPORT", "0x0110", "in", audit.INSTANCES_TRANSFERRED, "E", 8),
        ("N-SET", "0xB000", "out", audit.PROCEDURE_RECORD, "U", 0),
    ],
)
def test_traffic_maps_to_atna_event_action_and_outcome(
    command: str, status: str, direction: str, event: audit.EventType, action: str, outcome: int
) -> None:
    record = audit.from_traffic(line(command, status, direction), user="tina")
    assert (record.event, record.action, record.outcome) == (event, action, outcome)
    assert record.command == command and record.status == status


def test_who_is_the_peer_for_received_messages_and_the_user_for_sent_ones() -> None:
    received = audit.from_traffic(line("N-CREATE", "0x0000"), user="tina")
    sent = audit.from_traffic(line("N-CREATE", "0x0000", "out"), user="tina")
    assert (received.who_kind, received.who) == ("peer", "MOD1@127.0.0.1:4000")
    assert (sent.who_kind, sent.who, sent.peer) == ("user", "tina", "MOD1@127.0.0.1:4000")


def test_record_time_is_utc_and_subject_lands_in_its_own_fields() -> None:
    record = audit.from_traffic(line("C-STORE", "0x0000", subject=PATIENT, detail="x"))
    assert record.time == T0 and record.time.utcoffset() == dt.timedelta(0)
    obj = record.to_json()
    assert obj["time"] == "2026-11-22T01:30:00.000+00:00"
    assert (obj["patient_id"], obj["patient_name"], obj["accession"]) == (
        "PID-777",
        "Doe^Jane",
        "ACC-9",
    )
    assert (obj["sop_class"], obj["instance_uid"], obj["detail"]) == (
        PATIENT.sop_class,
        "1.2.3.4",
        "x",
    )
    assert (obj["event_type"], obj["event_code"]) == ("DICOM Instances Transferred", "110104")


def test_export_keys_are_stable() -> None:
    keys = list(audit.manual(audit.EXPORT, "R", "x").to_json())
    assert keys == [
        "time",
        "event_type",
        "event_code",
        "action",
        "outcome",
        "who_kind",
        "who",
        "peer",
        "command",
        "status",
        "sop_class",
        "instance_uid",
        "detail",
        "patient_id",
        "patient_name",
        "accession",
    ]


def test_pseudonyms_are_stable_within_a_run_keyed_across_runs() -> None:
    one, two = audit.Pseudonymizer(), audit.Pseudonymizer()
    obj = audit.from_traffic(line("N-CREATE", "0x0000", subject=PATIENT)).to_json()
    first, again = one.record(obj), one.record(obj)
    assert first == again
    assert first["patient_id"].startswith("anon-") and first["patient_id"] != "PID-777"
    assert first["patient_name"] != first["patient_id"]  # the field is part of the key
    assert "Doe" not in json.dumps(first) and "ACC-9" not in json.dumps(first)
    assert two.record(obj)["patient_id"] != first["patient_id"]
    assert first["instance_uid"] == "1.2.3.4"  # only patient fields change
    assert one.record({**obj, "patient_id": ""})["patient_id"] == ""


def test_pseudonymised_text_replaces_longest_identifiers_first() -> None:
    p = audit.Pseudonymizer(b"k")
    text = p.text("N-SET Doe^Jane for Doe", [("patient_name", "Doe"), ("patient_name", "Doe^Jane")])
    assert "Doe" not in text
    assert p.pseudonym("patient_name", "Doe^Jane") in text


# -- store ---------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(tmp_path / "data" / "audit.sqlite3")
    yield db  # type: ignore[misc]
    db.close()


def test_migration_creates_the_audit_table(database: Database) -> None:
    with database.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(audit)")}
    assert {"time", "event_code", "outcome", "who", "patient_id", "patient_name"} <= columns


def test_query_by_time_range_round_trips_records(database: Database) -> None:
    at = [dt.datetime(2026, 11, d, 12, tzinfo=dt.UTC) for d in (20, 21, 22)]
    records = [
        audit.from_traffic(Traffic(t, "in", "M@h:1", "N-CREATE", "0x0000", subject=PATIENT))
        for t in at
    ]
    audit_store.write_now(database, *records)
    with database.reading() as conn:
        assert list(audit_store.query(conn)) == records
        middle = list(audit_store.query(conn, at[1], at[2]))
        since = list(audit_store.query(conn, since=at[1]))
        local_until = at[1].astimezone(dt.timezone(dt.timedelta(hours=-5)))
        until = list(audit_store.query(conn, until=local_until))
    assert middle == [records[1]]
    assert since == records[1:]
    assert until == [records[0]]  # an offset-aware bound means the same instant


def test_audit_log_batches_from_many_threads_and_close_writes_everything(
    database: Database,
) -> None:
    hub = EventHub()
    with audit_store.trail(database, hub, "test"):
        threads = [
            threading.Thread(
                target=lambda n=n: [
                    hub.publish(line("C-STORE", "0x0000", detail=f"{n}-{i}")) for i in range(50)
                ]
            )
            for n in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with database.reading() as conn:
        records = list(audit_store.query(conn))
    stores = [r for r in records if r.command == "C-STORE"]
    assert len(stores) == 200 and len({r.detail for r in stores}) == 200
    assert [r.command for r in records if r.who_kind == "user"] == ["test started", "test stopped"]


def test_flush_commits_what_was_queued(database: Database) -> None:
    log = audit_store.AuditLog(database, interval=0.01)
    try:
        log.record(audit.manual(audit.EXPORT, "R", "one"))
        assert log.flush()
        with database.reading() as conn:
            assert [r.command for r in audit_store.query(conn)] == ["one"]
    finally:
        log.close()


def test_export_writes_json_lines_deidentified_and_audits_itself(database: Database) -> None:
    audit_store.write_now(
        database,
        audit.from_traffic(line("N-CREATE", "0x0000", subject=PATIENT)),
        audit.from_traffic(line("N-SET", "0x0000", subject=PATIENT)),
    )
    out = io.StringIO()
    assert audit_store.export(database, out, deidentify=True) == 2
    rows = [json.loads(text) for text in out.getvalue().splitlines()]
    assert len(rows) == 2
    assert rows[0]["patient_id"] == rows[1]["patient_id"] != "PID-777"
    for needle in ("PID-777", "Doe", "Jane", "ACC-9"):
        assert needle not in out.getvalue()
    plain = io.StringIO()
    audit_store.export(database, plain)
    lines = [json.loads(text) for text in plain.getvalue().splitlines()]
    assert lines[0]["patient_name"] == "Doe^Jane"
    assert (
        lines[-1]["event_type"] == "Export" and lines[-1]["detail"] == "2 record(s), de-identified"
    )


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_database_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a permissive umask: the modes must not depend on it
    try:
        db = Database(tmp_path / "fresh" / "db.sqlite3")
        try:
            audit_store.write_now(db, audit.manual(audit.EXPORT, "R", "x"))
            files = [
                tmp_path / "fresh" / n for n in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm")
            ]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
        finally:
            db.close()
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
