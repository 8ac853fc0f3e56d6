"""The Settings dialog's Security tab: TLS files kept and checked, the access list shown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pytestqt.qtbot import QtBot

from mppsconsole.core.access import AccessRule
from mppsconsole.core.events import EventHub, Traffic
from mppsconsole.core.settings import Settings, TlsSettings
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.gui.settings_dialog import SettingsDialog
from mppsconsole.gui.tasks import TaskRunner
from mppsconsole.net.certificates import init_lab
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, wait_until
from tests.gui.conftest import RecordingMessages
from tests.gui.test_settings_dialog import CONFIGURED, make_dialog, press_ok


def test_tls_and_access_survive_the_dialog(
    qtbot: QtBot, runner: TaskRunner, messages: RecordingMessages, tmp_path: Path
) -> None:
    lab = init_lab(tmp_path / "certs")
    tls = TlsSettings(str(lab.node_cert), str(lab.node_key), str(lab.ca_cert), True)
    rules = (AccessRule("CT1", ("10.0.0.0/24",), ("worklist", "mpps")),)
    settings = dataclasses.replace(CONFIGURED, tls=tls, access=rules)
    dialog = make_dialog(qtbot, settings, runner, messages)
    tab = dialog.security
    assert tab.cert.text() == str(lab.node_cert)
    assert tab.require_client_cert.isChecked()
    # [[access]] first, then the allowed calling AE titles of the Local node tab.
    shown = [
        [tab.access.item(r, c).text() for c in range(3)]  # type: ignore[union-attr]
        for r in range(tab.access.rowCount())
    ]
    assert shown == [
        ["CT1", "10.0.0.0/24", "worklist, mpps"],
        ["CT1", "any", "all"],
        ["MR1", "any", "all"],
    ]
    press_ok(dialog)
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert dialog.settings().tls == tls
    assert dialog.settings().access == rules


def test_unusable_tls_files_stay_in_the_dialog(
    qtbot: QtBot, runner: TaskRunner, messages: RecordingMessages, tmp_path: Path
) -> None:
    lab = init_lab(tmp_path / "certs")
    dialog = make_dialog(qtbot, CONFIGURED, runner, messages)
    assert "Open" not in dialog.security.access_note.text()  # CT1 and MR1 are listed
    dialog.security.cert.setText(str(lab.node_cert))
    dialog.security.key.setText(str(lab.peer_key))  # another certificate's key
    press_ok(dialog)
    assert dialog.isVisible()
    assert "does not match the certificate" in dialog.error.text()
    dialog.security.key.setText(str(lab.node_key))
    dialog.security.require_client_cert.setChecked(True)  # without a CA
    press_ok(dialog)
    assert "tls.require_client_cert" in dialog.error.text()
    dialog.security.ca.setText(str(lab.ca_cert))
    press_ok(dialog)
    assert not dialog.isVisible()
    assert dialog.settings().tls == TlsSettings(
        str(lab.node_cert), str(lab.node_key), str(lab.ca_cert), True
    )


def test_no_access_entries_says_it_is_open(
    qtbot: QtBot, runner: TaskRunner, messages: RecordingMessages
) -> None:
    open_settings = dataclasses.replace(CONFIGURED, allowed_calling_aets=())
    dialog = make_dialog(qtbot, open_settings, runner, messages)
    assert dialog.security.access.rowCount() == 0
    assert dialog.security.access_note.text().startswith("Open: any calling AE title")
    press_ok(dialog)
    assert dialog.settings().tls is None


def test_refused_associations_are_counted_in_the_server_status(
    qtbot: QtBot, tmp_path: Path
) -> None:
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    lines: list[Traffic] = []
    hub.subscribe(lambda event: lines.append(event) if isinstance(event, Traffic) else None)
    scp = ScpController(db, hub, tmp_path / "images")
    states: list[str] = []
    scp.state_changed.connect(lambda text, _ok: states.append(text))
    settings = Settings(bind_address=LOOPBACK, port=0, access=(AccessRule("MOD1"),))
    try:
        assert scp.start(settings, host=LOOPBACK, port=0)
        assert scp.address is not None
        ae = AE(ae_title="STRANGER")
        ae.acse_timeout = 10
        ae.add_requested_context(Verification)
        assoc = ae.associate(LOOPBACK, scp.address[1], ae_title=settings.ae_title)
        assert assoc.is_rejected
        ae.shutdown()
        assert wait_until(lambda: any(line.command == "ASSOCIATE" for line in lines))
        scp.count(lines)
        assert "0 associations" in states[-1]
        assert states[-1].endswith("· 1 refused")
    finally:
        scp.stop()
        db.close()
