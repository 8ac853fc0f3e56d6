"""File → Export audit trail…: the file written on a worker, de-identified, and failures shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from mppsconsole.core import audit
from mppsconsole.core.events import EventHub, Subject, Traffic
from mppsconsole.core.settings import Settings
from mppsconsole.gui.audit_export import AuditExportDialog
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.store import audit as audit_store
from mppsconsole.store.db import Database

WAIT_MS = 20_000
PATIENT = Subject("", "1.2.3", "GUI-PID-1", "Gui^Gerda", "ACC-GUI-1")


@pytest.fixture
def window(qtbot, tmp_path: Path, qasync_loop: qasync.QEventLoop) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    settings = Settings(bind_address="127.0.0.1", port=0)
    scp = ScpController(db, hub, tmp_path / "images")
    win = MainWindow(ConsoleContext(db, hub, settings, tmp_path / "config.toml", tmp_path, scp))
    qtbot.addWidget(win)
    audit_store.write_now(db, audit.manual(audit.ORDER_RECORD, "C", "seed", subject=PATIENT))
    yield win
    qtbot.waitUntil(lambda: not win.runner.running, timeout=WAIT_MS)
    win.close()
    db.close()


def test_export_action_writes_a_deidentified_file(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert window.act_export_audit in window.menuBar().actions()[0].menu().actions()
    target = tmp_path / "trail.jsonl"
    window.export_audit(target, deidentify=True)
    qtbot.waitUntil(lambda: not window.runner.running, timeout=WAIT_MS)
    text = target.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert [r["command"] for r in rows] == ["seed"]
    assert rows[0]["patient_id"].startswith("anon-")
    for needle in ("GUI-PID-1", "Gui^Gerda", "Gerda", "ACC-GUI-1"):
        assert needle not in text
    assert "1 record(s) exported" in window.statusBar().currentMessage()


def test_settings_changes_are_audited_by_field_name(window: MainWindow) -> None:
    window.apply_settings(dataclasses.replace(window.settings, operator="Tech^Other"))
    with window.ctx.db.reading() as conn:
        records = list(audit_store.query(conn))
    change = records[-1]
    assert (change.event, change.action, change.command) == (
        audit.SECURITY_ALERT,
        "U",
        "gui settings changed",
    )
    assert change.detail == "operator" and "Tech" not in change.detail


def test_an_unwritable_target_is_reported(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.export_audit(tmp_path / "missing-folder" / "trail.jsonl")
    qtbot.waitUntil(lambda: window.messages.last_dialog is not None, timeout=WAIT_MS)
    dialog = window.messages.last_dialog
    assert dialog is not None and dialog.icon() == QMessageBox.Icon.Warning
    assert "cannot write" in dialog.text()
    dialog.close()


def test_dialog_defaults_to_deidentified(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = AuditExportDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.deidentify.isChecked()
    assert dialog.path() == tmp_path / "mppsconsole-audit.jsonl"
    dialog.path_edit.setText("  ")
    assert dialog.path() is None


def test_traffic_log_copies_can_be_deidentified(qtbot) -> None:  # type: ignore[no-untyped-def]
    from mppsconsole.gui.traffic_log import TrafficDock

    dock = TrafficDock(None)
    qtbot.addWidget(dock)
    at = dt.datetime(2026, 11, 22, 9, 0).astimezone()
    comment = "1.2.3 Invalid value: Gui^Gerda / ACC-GUI-1"
    dock.append(
        [
            Traffic(at, "in", "MOD@127.0.0.1:1", "N-CREATE", "0x0106", comment, subject=PATIENT),
            Traffic(at, "in", "MOD@127.0.0.1:1", "RELEASE", "released"),
        ]
    )
    assert "Gui^Gerda" in dock.model.text()
    dock.copy(deidentify=True)
    copied = QGuiApplication.clipboard().text()
    assert "Gerda" not in copied and "ACC-GUI-1" not in copied
    assert "1.2.3 Invalid value: anon-" in copied and "RELEASE" in copied
