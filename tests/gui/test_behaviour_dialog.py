"""The Server behaviour dialog switches the running SCP's profile; the status bar says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QComboBox

from mppsconsole import resources
from mppsconsole.core.events import EventHub
from mppsconsole.core.profile import STRICT, FaultRule, Profile, load_profile
from mppsconsole.core.settings import Settings
from mppsconsole.gui.behaviour_dialog import ACTION, SERVICE, VALUE, BehaviourDialog
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.store.db import Database

WAIT_MS = 30_000


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    settings = Settings(bind_address="127.0.0.1", port=0)
    scp = ScpController(db, hub, tmp_path / "images")
    window = MainWindow(ConsoleContext(db, hub, settings, tmp_path / "config.toml", tmp_path, scp))
    qtbot.addWidget(window)
    assert scp.start(settings, host="127.0.0.1", port=0)
    window.show()
    yield window
    scp.stop()
    window.close()
    db.close()


def _echo_status(window: MainWindow) -> int:
    ae = AE(ae_title="MOD1")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(Verification)
    port = window.ctx.scp.address[1]  # type: ignore[index]
    assoc = ae.associate("127.0.0.1", port, ae_title="MPPSCONSOLE", evt_handlers=[NODELAY_HANDLER])
    assert assoc.is_established
    status = assoc.send_c_echo()
    assoc.release()
    return int(status.Status)


def _set_row(dialog: BehaviourDialog, row: int, service: str, action: str, value: str) -> None:
    for column, text in ((SERVICE, service), (ACTION, action)):
        combo = dialog.rules.cellWidget(row, column)
        assert isinstance(combo, QComboBox)
        combo.setCurrentText(text)
    item = dialog.rules.item(row, VALUE)
    assert item is not None
    item.setText(value)


def test_dialog_switches_the_running_server_and_the_indicator_shows(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
) -> None:
    assert _echo_status(window) == 0x0000
    assert not window.faults_label.isVisible()

    def fill_and_accept() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, BehaviourDialog)
        dialog.mode.setCurrentIndex(dialog.mode.findData(STRICT))
        dialog.add_rule.click()
        _set_row(dialog, 0, "verification", "status", "0110")
        dialog.accept()

    QTimer.singleShot(0, fill_and_accept)
    window.act_behaviour.trigger()  # the menu entry (Ctrl+Shift+B)

    assert window.ctx.scp.profile.mode == STRICT
    assert _echo_status(window) == 0x0110  # no restart: the same server, new behaviour
    assert window.faults_label.isVisible()
    assert "1" in window.faults_label.text()
    assert "verification" in window.faults_label.toolTip()

    window.ctx.scp.set_profile(Profile())
    assert _echo_status(window) == 0x0000
    assert not window.faults_label.isVisible()


def test_profile_survives_a_restart_on_a_new_port(window: MainWindow) -> None:
    window.ctx.scp.set_profile(Profile(faults=(FaultRule("verification", "status"),)))
    assert window.ctx.scp.start(window.settings, host="127.0.0.1", port=0)
    assert _echo_status(window) == 0x0110


def test_invalid_rule_keeps_the_dialog_open_with_the_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = BehaviourDialog(Profile())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.add_rule.click()
    _set_row(dialog, 0, "storage", "delay", "soon")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.error.isVisible()
    assert "Rule 1" in dialog.error.text() and "milliseconds" in dialog.error.text()
    assert dialog.profile() == Profile()


def test_loaded_file_keeps_what_the_table_does_not_show(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = BehaviourDialog(Profile())
    qtbot.addWidget(dialog)
    path = resources.example_profile("flaky-ris")
    assert dialog.load_file(path)
    expected = load_profile(path)
    assert dialog.rules.rowCount() == len(expected.faults)
    dialog.accept()
    assert dialog.profile() == expected  # counts, probabilities, hosts kept

    broken = tmp_path / "broken.toml"
    broken.write_text('mode = "strict"\nsurprise = 1\n')
    assert not dialog.load_file(broken)
    assert f"{broken}, line 2" in dialog.error.text()
