"""Schema versions, applied forward in order (``PRAGMA user_version`` counts them).

Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mppsconsole.core.errors import UserError

MIGRATIONS: tuple[str, ...] = (
    # 1: steps, their message history, worklist, received instances
    """
    CREATE TABLE steps (
        sop_instance_uid TEXT NOT NULL,
        direction TEXT NOT NULL,
        status TEXT NOT NULL,
        patient_name TEXT NOT NULL DEFAULT '',
        patient_id TEXT NOT NULL DEFAULT '',
        accession_number TEXT NOT NULL DEFAULT '',
        modality TEXT NOT NULL DEFAULT '',
        station_ae TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        study_instance_uid TEXT NOT NULL DEFAULT '',
        start TEXT,
        "end" TEXT,
        series_count INTEGER NOT NULL DEFAULT 0,
        image_count INTEGER NOT NULL DEFAULT 0,
        calling_ae TEXT NOT NULL DEFAULT '',
        peer TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        dataset TEXT NOT NULL,
        -- the console may both send a step (modality) and receive it (its own SCP)
        PRIMARY KEY (sop_instance_uid, direction)
    );
    CREATE INDEX steps_study ON steps (study_instance_uid);
    CREATE INDEX steps_updated ON steps (updated_at);
    CREATE TABLE step_messages (
        id INTEGER PRIMARY KEY,
        sop_instance_uid TEXT NOT NULL,
        time TEXT NOT NULL,
        direction TEXT NOT NULL,
        command TEXT NOT NULL,
        calling_ae TEXT NOT NULL DEFAULT '',
        peer TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL,
        error_comment TEXT NOT NULL DEFAULT '',
        dataset TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX step_messages_uid ON step_messages (sop_instance_uid);
    CREATE TABLE worklist_items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL DEFAULT 'local',
        patient_name TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        birth_date TEXT NOT NULL DEFAULT '',
        sex TEXT NOT NULL DEFAULT '',
        accession_number TEXT NOT NULL,
        modality TEXT NOT NULL,
        scheduled_station_ae TEXT NOT NULL DEFAULT '',
        scheduled_start TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        requested_procedure_id TEXT NOT NULL,
        scheduled_step_id TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        referring_physician TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'SCHEDULED',
        UNIQUE (source, study_instance_uid, scheduled_step_id)
    );
    CREATE INDEX worklist_accession ON worklist_items (accession_number);
    CREATE TABLE instances (
        sop_instance_uid TEXT PRIMARY KEY,
        sop_class_uid TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        series_instance_uid TEXT NOT NULL,
        transfer_syntax TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        calling_ae TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL,
        step_uid TEXT
    );
    CREATE INDEX instances_step ON instances (step_uid);
    CREATE INDEX instances_study ON instances (study_instance_uid);
    """,
    # 2: protocol codes of cached orders, instances keyed by direction (the console may
    #    both send and receive the same instance), storage commitment requests
    """
    ALTER TABLE worklist_items ADD COLUMN step_description TEXT NOT NULL DEFAULT '';
    ALTER TABLE worklist_items ADD COLUMN protocol_code_value TEXT NOT NULL DEFAULT '';
    ALTER TABLE worklist_items ADD COLUMN protocol_coding_scheme TEXT NOT NULL DEFAULT '';
    ALTER TABLE worklist_items ADD COLUMN protocol_code_meaning TEXT NOT NULL DEFAULT '';
    CREATE TABLE instances_v2 (
        sop_instance_uid TEXT NOT NULL,
        direction TEXT NOT NULL DEFAULT 'received',
        sop_class_uid TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        series_instance_uid TEXT NOT NULL,
        transfer_syntax TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        calling_ae TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL,
        step_uid TEXT,
        PRIMARY KEY (sop_instance_uid, direction)
    );
    INSERT INTO instances_v2 (sop_instance_uid, sop_class_uid, study_instance_uid,
        series_instance_uid, transfer_syntax, path, size, calling_ae, received_at, step_uid)
        SELECT sop_instance_uid, sop_class_uid, study_instance_uid, series_instance_uid,
        transfer_syntax, path, size, calling_ae, received_at, step_uid FROM instances;
    DROP TABLE instances;
    ALTER TABLE instances_v2 RENAME TO instances;
    CREATE INDEX instances_step ON instances (step_uid);
    CREATE INDEX instances_study ON instances (study_instance_uid);
    CREATE TABLE commitments (
        transaction_uid TEXT PRIMARY KEY,
        step_uid TEXT,
        node TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        committed TEXT NOT NULL DEFAULT '[]',
        failed TEXT NOT NULL DEFAULT '[]',
        answered_at TEXT
    );
    CREATE INDEX commitments_step ON commitments (step_uid);
    """,
    # 3: a worklist version any writer bumps (any process), so the SCP can cache responses
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('worklist_version', 0);
    CREATE TRIGGER worklist_inserted AFTER INSERT ON worklist_items BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'worklist_version';
    END;
    CREATE TRIGGER worklist_updated AFTER UPDATE ON worklist_items BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'worklist_version';
    END;
    CREATE TRIGGER worklist_deleted AFTER DELETE ON worklist_items BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'worklist_version';
    END;
    """,
    # validation findings of each step (core/validation.py), computed when a step or one
    # of its instances is written; the count and worst severity ride on the step row so
    # the window's table loads them with the step, without parsing any dataset
    """
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        step_uid TEXT NOT NULL,
        direction TEXT NOT NULL,
        scope TEXT NOT NULL,
        severity TEXT NOT NULL,
        attribute TEXT NOT NULL,
        message TEXT NOT NULL,
        rule TEXT NOT NULL
    );
    CREATE INDEX findings_step ON findings (step_uid, direction, scope);
    CREATE INDEX findings_severity ON findings (step_uid, direction, severity);
    CREATE INDEX worklist_study ON worklist_items (study_instance_uid, scheduled_step_id);
    ALTER TABLE steps ADD COLUMN finding_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE steps ADD COLUMN worst_finding TEXT NOT NULL DEFAULT '';
    -- the Specific Character Set each worklist item is served in (test data beyond ASCII)
    ALTER TABLE worklist_items ADD COLUMN character_set TEXT NOT NULL DEFAULT '';
    """,
    # deferred MPPS: N-CREATE / N-SET waiting for an unreachable destination, in order per step
    """
    CREATE TABLE mpps_outbox (
        id INTEGER PRIMARY KEY,
        step_uid TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        dataset TEXT NOT NULL,
        node TEXT NOT NULL,
        calling_ae TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'pending',
        maybe_delivered INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        UNIQUE (step_uid, seq)
    );
    CREATE INDEX mpps_outbox_state ON mpps_outbox (state, next_attempt);
    """,
    # the audit trail (IHE ATNA-like records; store/audit.py); patient fields apart
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        event_type TEXT NOT NULL,
        event_code TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome INTEGER NOT NULL,
        who_kind TEXT NOT NULL,
        who TEXT NOT NULL,
        peer TEXT NOT NULL DEFAULT '',
        command TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT '',
        sop_class TEXT NOT NULL DEFAULT '',
        instance_uid TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        patient_id TEXT NOT NULL DEFAULT '',
        patient_name TEXT NOT NULL DEFAULT '',
        accession TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_time ON audit (time);
    """,
)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the schema up to date inside the caller's transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise UserError(
            f"{path}: the database was written by a newer MPPS Console "
            f"(schema {version}, this version knows {len(MIGRATIONS)})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version={number}")


def _statements(script: str) -> list[str]:
    """Split a script into statements (triggers contain ``;`` inside BEGIN ... END).

    ``executescript`` would do it but commits first, breaking the one-transaction
    migration.
    """
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip().strip(";").strip():
                statements.append(current)
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:60]}")
    return statements
