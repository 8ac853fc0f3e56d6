"""Deferred MPPS in the window: the status-bar count, the steps table mark, retry and cancel."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from mppsconsole.core.events import EventHub
from mppsconsole.core.settings import Node, Settings
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.net.deferred import Backoff, DeferredSender
from mppsconsole.net.modality import start_step
from mppsconsole.net.server import DepartmentServer
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import steps
from mppsconsole.store.db import Database

WAIT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def console(qtbot, tmp_path: Path, qasync_loop: qasync.QEventLoop) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    settings = Settings(bind_address="127.0.0.1", port=0)
    scp = ScpController(db, hub, tmp_path / "images")
    sender = DeferredSender(db, hub, Backoff(first=30, cap=60))  # only "Retry now" sends
    sender.start()
    context = ConsoleContext(db, hub, settings, tmp_path / "config.toml", tmp_path, scp, sender)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    yield window
    sender.stop()
    window.close()
    db.close()


def _status_text(window: MainWindow, uid: str) -> str:
    row = window.model.row_of(uid, SENT)
    assert row is not None
    return str(window.model.data(window.model.index(row, 0), Qt.ItemDataRole.DisplayRole))


def test_deferred_steps_are_shown_retried_and_cancelled(  # type: ignore[no-untyped-def]
    qtbot, console: MainWindow, tmp_path: Path
) -> None:
    port = _free_port()
    node = Node("ris", "RIS", "127.0.0.1", port)
    station = Workstation.from_settings(Settings(ae_title="CT01"))
    db, hub = console.ctx.db, console.ctx.hub
    kept = start_step(
        db, station, node, patient=Patient("Wait^Will", "P1"), modality="CT", events=hub
    )
    dropped = start_step(
        db, station, node, patient=Patient("Drop^Dan", "P2"), modality="MR", events=hub
    )

    queue = console.deferred
    qtbot.waitUntil(lambda: queue.button.text() == "Deferred: 2", timeout=WAIT_MS)
    assert queue.button.isVisible()
    told = console.statusBar().currentMessage()  # 2, or 1 and 1 if a refresh fell between
    assert told.startswith("MPPS destination not reachable: ") and "deferred" in told
    qtbot.waitUntil(lambda: console.model.row_of(kept.sop_instance_uid, SENT) is not None)
    assert _status_text(console, kept.sop_instance_uid) == "IN PROGRESS (deferred)"

    dialog = queue.open_dialog()
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 0).text() == kept.sop_instance_uid
    assert dialog.table.item(0, 1).text() == "N-CREATE"
    assert dialog.table.item(0, 2).text() == f"RIS@127.0.0.1:{port}"
    assert "connection refused" in dialog.table.item(0, 5).text()
    assert not dialog.cancel_button.isEnabled()  # nothing selected

    # Cancel asks first; "No" keeps the message.
    dialog.table.selectRow(1)
    dialog.ask_cancel()
    assert dialog.confirm is not None and "later N-SET" in dialog.confirm.text()
    dialog.confirm.button(QMessageBox.StandardButton.No).click()
    queue.refresh()
    assert len(queue.messages) == 2
    dialog.ask_cancel()
    dialog.confirm.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert queue.button.text() == "Deferred: 1"

    # The destination comes up; "Retry now" sends without waiting for the back-off.
    ris_db = Database(tmp_path / "ris.sqlite3")
    ris = DepartmentServer(ris_db, Settings(ae_title="RIS", bind_address="127.0.0.1"), tmp_path)
    ris.start("127.0.0.1", port)
    try:
        dialog.table.clearSelection()
        dialog.retry_button.click()
        qtbot.waitUntil(lambda: not queue.button.isVisible(), timeout=WAIT_MS)
        assert dialog.table.rowCount() == 0 and dialog.empty.isVisible()
        assert _status_text(console, kept.sop_instance_uid) == "IN PROGRESS"
        with ris_db.reading() as conn:
            assert steps.exists(conn, kept.sop_instance_uid, RECEIVED)
            assert not steps.exists(conn, dropped.sop_instance_uid, RECEIVED)
    finally:
        ris.stop()
        ris_db.close()
    dialog.close()
