"""The findings store: scopes replaced independently, a tally that rides on the step row."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from mppsconsole.core.step import RECEIVED, SENT, StepSummary
from mppsconsole.core.validation import ERROR, INFO, WARNING, Finding
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.store import findings, steps, worklist
from mppsconsole.store.db import Database
from mppsconsole.store.migrations import MIGRATIONS

UID = "1.2.3.100"


def f(severity: str, attribute: str = "PatientName") -> Finding:
    return Finding(severity, attribute, f"{severity} on {attribute}", "PS3.4 Table F.7.2-1")


def test_scopes_are_replaced_independently_and_listed_worst_first(db: Database) -> None:
    with db.transaction() as conn:
        findings.add(conn, UID, RECEIVED, findings.MESSAGE, [f(INFO), f(WARNING, "PatientSex")])
        findings.replace(conn, UID, RECEIVED, findings.STATE, [f(ERROR)])
        findings.replace(conn, UID, RECEIVED, findings.image_scope("9.1"), [f(WARNING)])
        findings.add(conn, UID, RECEIVED, findings.reference_scope("9.2"), [f(ERROR, "Ref")])
        findings.add(conn, UID, SENT, findings.STATE, [f(ERROR)])  # the other direction
    with db.reading() as conn:
        listed = findings.for_step(conn, UID, RECEIVED)
        assert [x.severity for x in listed] == [ERROR, ERROR, WARNING, WARNING, INFO]
        assert findings.tally(conn, UID, RECEIVED) == (5, ERROR)

    with db.transaction() as conn:
        assert findings.replace(conn, UID, RECEIVED, findings.STATE, []) == -1
        findings.clear_references(conn, UID, RECEIVED)
        assert findings.replace(conn, UID, RECEIVED, findings.image_scope("9.1"), [f(INFO)]) == 0
    with db.reading() as conn:
        assert findings.tally(conn, UID, RECEIVED) == (3, WARNING)
        assert findings.for_step(conn, UID, RECEIVED)[0] == f(WARNING, "PatientSex")
        assert findings.tally(conn, UID, SENT) == (1, ERROR)
        assert findings.tally(conn, "1.2.3.999", RECEIVED) == (0, "")


def test_the_tally_is_stored_and_listed_with_the_step(db: Database) -> None:
    now = dt.datetime(2026, 11, 21, 10, 0)
    step = StepSummary(UID, "IN PROGRESS", RECEIVED, finding_count=2, worst_finding=WARNING)
    with db.transaction() as conn:
        steps.save(conn, step, "{}", "127.0.0.1:1", now)
    with db.reading() as conn:
        (listed,) = steps.list_steps(conn)
        assert (listed.finding_count, listed.worst_finding) == (2, WARNING)
    with db.transaction() as conn:
        findings.set_tally(conn, UID, RECEIVED, 7, ERROR)
    with db.reading() as conn:
        got = steps.get(conn, UID, RECEIVED)
        assert got is not None
        assert (got.summary.finding_count, got.summary.worst_finding) == (7, ERROR)


def test_find_order_by_study_and_step_id_else_accession_local_first(db: Database) -> None:
    def item(source: str, step_id: str, accession: str) -> WorklistItem:
        return WorklistItem(
            patient_name=f"{source}^{step_id}",
            patient_id="P1",
            modality="CT",
            scheduled_start=dt.datetime(2026, 11, 21, 9, 0),
            accession_number=accession,
            study_instance_uid="1.2.3",
            requested_procedure_id="RP1",
            scheduled_step_id=step_id,
            source=source,
        )

    with db.transaction() as conn:
        worklist.add_many(conn, [item("ris", "SPS1", "A1"), item("local", "SPS1", "A1")])
        worklist.add_many(conn, [item("ris", "SPS2", "A2")])
    with db.reading() as conn:
        found = worklist.find_order(conn, "1.2.3", "SPS1", "")
        assert found is not None and found.source == "local"
        found = worklist.find_order(conn, "1.2.3", "SPS2", "A1")
        assert found is not None and found.scheduled_step_id == "SPS2"
        found = worklist.find_order(conn, "", "", "A2")
        assert found is not None and found.patient_name == "ris^SPS2"
        assert worklist.find_order(conn, "1.2.3", "SPS9", "A1") is None
        assert worklist.find_order(conn, "", "", "") is None


def test_an_existing_database_gains_the_findings_schema(tmp_path: Path) -> None:
    """A store written before this migration opens with empty findings and zero tallies."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:-1], start=1):
        conn.executescript(script)
        conn.execute(f"PRAGMA user_version={number}")
    conn.execute(
        "INSERT INTO steps (sop_instance_uid, direction, status, created_at, updated_at, "
        "dataset) VALUES ('1.2', 'received', 'COMPLETED', ?, ?, '{}')",
        ("2026-11-21T10:00:00", "2026-11-21T10:00:00"),
    )
    conn.close()
    db = Database(path)
    try:
        with db.reading() as conn:
            (listed,) = steps.list_steps(conn)
            assert (listed.finding_count, listed.worst_finding) == (0, "")
            assert findings.for_step(conn, "1.2", RECEIVED) == []
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()
