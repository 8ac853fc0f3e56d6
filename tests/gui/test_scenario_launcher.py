"""Run scenario… from the window: against the embedded SCP, progress, then the verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QMessageBox

from mppsconsole.core.events import EventHub
from mppsconsole.core.settings import Settings
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.resources import demo_scenario
from mppsconsole.store import steps
from mppsconsole.store.db import Database

WAIT_MS = 60_000


@pytest.fixture
def console(qtbot, tmp_path: Path, qasync_loop: qasync.QEventLoop) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    settings = Settings(bind_address="127.0.0.1", port=0)
    scp = ScpController(db, hub, tmp_path / "images")
    window = MainWindow(ConsoleContext(db, hub, settings, tmp_path / "config.toml", tmp_path, scp))
    qtbot.addWidget(window)
    assert scp.start(settings, host="127.0.0.1", port=0)
    window.show()
    yield window
    for task in window.runner.running:
        task.cancel.set()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=WAIT_MS)
    scp.stop()
    window.close()
    db.close()


def test_a_scenario_runs_against_our_own_scp_and_reports(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    launcher = console.scenarios
    task = launcher.run_file(demo_scenario("mr-chinese-names"), speed=5000)
    assert task is not None and launcher.progress is not None
    qtbot.waitUntil(lambda: launcher.summary is not None, timeout=WAIT_MS)
    summary = launcher.summary
    assert summary is not None
    assert summary.icon() == QMessageBox.Icon.Information
    assert summary.text() == "7 of 7 expectation(s) passed"
    assert "PASS  step 3: 2 image(s) stored" in summary.detailedText()
    assert launcher.progress is None
    with console.ctx.db.reading() as conn:
        everything = steps.list_steps(conn)
    assert sum(s.direction == SENT for s in everything) == 3
    assert sum(s.direction == RECEIVED for s in everything) == 3
    assert console.model.rowCount() == 6
    summary.close()


def test_a_bad_file_is_explained_and_nothing_runs(  # type: ignore[no-untyped-def]
    qtbot, console: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[step]]\noutcome = 'completed'\n", encoding="utf-8")
    assert console.scenarios.run_file(bad) is None
    dialog = console.messages.last_dialog
    assert dialog is not None and f"{bad}:1:" in dialog.text()
    assert not console.runner.running
    dialog.close()
