"""The Settings dialog: loading, editing, the file's validation rules, and Echo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from mppsconsole.core.errors import InputError, PeerError
from mppsconsole.core.limits import Limits
from mppsconsole.core.settings import Node, Settings
from mppsconsole.gui.settings_dialog import AE_TITLE, HOST, NAME, PORT, SettingsDialog
from mppsconsole.gui.tasks import TaskRunner
from tests.conftest import LOOPBACK, RunningServer
from tests.gui.conftest import RecordingMessages, wait_idle

OUR_AE = "GUITEST"
CONFIGURED = Settings(
    ae_title="CONSOLE1",
    port=11113,
    bind_address="127.0.0.1",
    allowed_calling_aets=("CT1", "MR1"),
    hide_finished_worklist=False,
    durability="normal",
    nodes=(
        Node("RIS", "RIS_AE", "10.0.0.5", 104),
        Node("PACS", "PACS_AE", "10.0.0.6", 4242, tls=True),
    ),
    station_name="CT-ROOM-2",
    location="Building B",
    operator="Tech^Tina",
    uid_root="1.2.826.0.1.3680043.9.7777",
    language="zh_CN",
    storage_dir="/srv/dicom",
    worklist_destination="RIS",
    mpps_destination="RIS",
    storage_destination="PACS",
    commitment_destination="self",
    limits=Limits(max_associations=8, idle_timeout=5),  # file-only: kept through the dialog
)


def make_dialog(
    qtbot: QtBot, settings: Settings, runner: TaskRunner, messages: RecordingMessages
) -> SettingsDialog:
    dialog = SettingsDialog(settings, runner, messages, OUR_AE)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.fixture
def dialog(
    qtbot: QtBot, runner: TaskRunner, messages: RecordingMessages
) -> Iterator[SettingsDialog]:
    yield make_dialog(qtbot, CONFIGURED, runner, messages)


def press_ok(dialog: SettingsDialog) -> None:
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok is not None
    ok.click()


def cell(dialog: SettingsDialog, row: int, column: int) -> str:
    item = dialog.nodes.item(row, column)
    assert item is not None
    return item.text()


def set_cell(dialog: SettingsDialog, row: int, column: int, text: str) -> None:
    item = dialog.nodes.item(row, column)
    assert item is not None
    item.setText(text)


def destination_names(dialog: SettingsDialog, kind: str) -> list[str]:
    combo = dialog.destinations[kind]
    return [combo.itemData(i) for i in range(combo.count())]


def test_fields_load_from_the_settings(dialog: SettingsDialog) -> None:
    assert dialog.ae_title.text() == "CONSOLE1"
    assert dialog.port.value() == 11113
    assert dialog.bind_address.text() == "127.0.0.1"
    assert dialog.allowed.toPlainText() == "CT1\nMR1"
    assert dialog.storage_dir.text() == "/srv/dicom"
    assert not dialog.hide_finished.isChecked()
    assert dialog.durability.currentData() == "normal"
    assert dialog.language.currentData() == "zh_CN"
    assert dialog.language.currentText() == "简体中文"
    assert dialog.station_name.text() == "CT-ROOM-2"
    assert dialog.location.text() == "Building B"
    assert dialog.operator.text() == "Tech^Tina"
    assert dialog.uid_root.text() == "1.2.826.0.1.3680043.9.7777"
    assert dialog.nodes.rowCount() == 2
    assert [cell(dialog, 1, c) for c in (NAME, AE_TITLE, HOST, PORT)] == [
        "PACS",
        "PACS_AE",
        "10.0.0.6",
        "4242",
    ]
    assert destination_names(dialog, "worklist") == ["self", "RIS", "PACS"]
    chosen = {kind: combo.currentData() for kind, combo in dialog.destinations.items()}
    assert chosen == {"worklist": "RIS", "mpps": "RIS", "storage": "PACS", "commitment": "self"}


def test_unchanged_settings_come_back_unchanged(dialog: SettingsDialog) -> None:
    press_ok(dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.settings() == CONFIGURED  # the PACS node keeps its TLS flag


def test_edited_values_come_back(qtbot: QtBot, dialog: SettingsDialog) -> None:
    dialog.ae_title.clear()
    qtbot.keyClicks(dialog.ae_title, "NEW_AE")
    dialog.port.setValue(104)
    dialog.bind_address.setText("0.0.0.0")
    dialog.allowed.setPlainText("  CT9 \n\nUS1\n")
    dialog.storage_dir.setText("")
    dialog.hide_finished.setChecked(True)
    dialog.durability.setCurrentIndex(dialog.durability.findData("full"))
    dialog.language.setCurrentIndex(dialog.language.findData(""))
    dialog.station_name.setText("US-1")
    dialog.location.setText("")
    dialog.operator.setText("Op^Olga")
    dialog.uid_root.setText("1.2.3")
    set_cell(dialog, 0, NAME, "RIS2")  # a renamed node keeps its destinations
    set_cell(dialog, 0, PORT, "1104")
    dialog.add_node.click()
    assert dialog.nodes.rowCount() == 3
    set_cell(dialog, 2, NAME, "MODALITY")
    set_cell(dialog, 2, AE_TITLE, "MOD_AE")
    set_cell(dialog, 2, HOST, "192.168.1.20")
    set_cell(dialog, 2, PORT, "5678")
    dialog.nodes.selectRow(1)
    dialog.remove_node.click()  # PACS: its destination falls back to self
    commitment = dialog.destinations["commitment"]
    commitment.setCurrentIndex(commitment.findData("MODALITY"))
    press_ok(dialog)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.settings() == Settings(
        ae_title="NEW_AE",
        port=104,
        bind_address="0.0.0.0",
        allowed_calling_aets=("CT9", "US1"),
        hide_finished_worklist=True,
        durability="full",
        nodes=(
            Node("RIS2", "RIS_AE", "10.0.0.5", 1104),
            Node("MODALITY", "MOD_AE", "192.168.1.20", 5678),
        ),
        station_name="US-1",
        location="",
        operator="Op^Olga",
        uid_root="1.2.3",
        language="",
        storage_dir="",
        worklist_destination="RIS2",
        mpps_destination="RIS2",
        storage_destination="self",
        commitment_destination="MODALITY",
        limits=CONFIGURED.limits,
    )


def test_invalid_ae_title_shows_the_error_and_stays_open(dialog: SettingsDialog) -> None:
    dialog.tabs.setCurrentIndex(3)
    dialog.ae_title.setText("THIS_AE_TITLE_IS_TOO_LONG")
    press_ok(dialog)

    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("local.ae_title: invalid AE title")
    assert "line" not in dialog.error.text()  # the line of a file the user never saw
    assert dialog.tabs.currentIndex() == 0  # taken to the field
    assert dialog.settings() == CONFIGURED

    dialog.ae_title.setText("FINE")
    press_ok(dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.settings().ae_title == "FINE"


@pytest.mark.parametrize(
    ("port", "message"),
    [("70000", "nodes[2].port: port 70000 out of range"), ("abc", "nodes[2].port: expected")],
)
def test_invalid_node_port_shows_the_error_and_stays_open(
    dialog: SettingsDialog, port: str, message: str
) -> None:
    set_cell(dialog, 1, PORT, port)
    press_ok(dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text().startswith(message)
    assert dialog.tabs.currentIndex() == 2
    assert (dialog.nodes.currentRow(), dialog.nodes.currentColumn()) == (1, PORT)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.bind_address.setText("localhost"), "local.bind_address: not an IP address"),
        (lambda d: d.allowed.setPlainText("OK\nBAD\\AE"), "local.allowed_calling_aets"),
        (lambda d: d.uid_root.setText("1.2.abc"), "modality.uid_root: invalid UID root"),
        (lambda d: set_cell(d, 0, NAME, ""), "nodes[1].name: every node needs a name"),
        (lambda d: set_cell(d, 1, NAME, "RIS"), "nodes[2].name: 'RIS' is used twice"),
        (lambda d: set_cell(d, 1, AE_TITLE, ""), "nodes[2].ae_title: invalid AE title"),
    ],
)
def test_the_rules_of_the_settings_file_apply(
    dialog: SettingsDialog, edit: object, message: str
) -> None:
    edit(dialog)  # type: ignore[operator]
    press_ok(dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text().startswith(message), dialog.error.text()


def test_remove_and_echo_follow_the_selection(dialog: SettingsDialog) -> None:
    dialog.nodes.clearSelection()
    assert not dialog.remove_node.isEnabled() and not dialog.echo_node.isEnabled()
    dialog.nodes.selectRow(0)
    assert dialog.remove_node.isEnabled() and dialog.echo_node.isEnabled()


def test_added_nodes_get_fresh_names_and_become_destinations(dialog: SettingsDialog) -> None:
    dialog.add_node.click()
    dialog.add_node.click()
    assert [cell(dialog, r, NAME) for r in (2, 3)] == ["NODE1", "NODE2"]
    assert destination_names(dialog, "mpps") == ["self", "RIS", "PACS", "NODE1", "NODE2"]


def echo_row(qtbot: QtBot, dialog: SettingsDialog, runner: TaskRunner, node: Node) -> None:
    dialog.add_node.click()
    row = dialog.nodes.rowCount() - 1
    set_cell(dialog, row, NAME, node.name)
    set_cell(dialog, row, AE_TITLE, node.ae_title)
    set_cell(dialog, row, HOST, node.host)
    set_cell(dialog, row, PORT, str(node.port))
    dialog.nodes.selectRow(row)
    dialog.echo_node.click()
    assert dialog.echo_result.text() == f"Echoing {node.name}…"
    wait_idle(qtbot, runner)


def test_echo_of_a_node_that_answers_reports_the_round_trip(
    qtbot: QtBot,
    dialog: SettingsDialog,
    runner: TaskRunner,
    messages: RecordingMessages,
    scp: RunningServer,
) -> None:
    echo_row(qtbot, dialog, runner, Node("scp", scp.ae_title, LOOPBACK, scp.port))
    assert messages.failures == []
    (text,) = messages.infos
    assert text.startswith("Echo scp: success (") and text.endswith(" ms)")
    assert dialog.echo_result.text() == text
    assert dialog.isVisible()  # echo is a check, not a choice


def test_echo_of_a_closed_port_fails_through_messages(
    qtbot: QtBot,
    dialog: SettingsDialog,
    runner: TaskRunner,
    messages: RecordingMessages,
    free_port: int,
) -> None:
    echo_row(qtbot, dialog, runner, Node("gone", "GONE", LOOPBACK, free_port))
    assert messages.infos == []
    ((what, error),) = messages.failures
    assert what == "Echo gone"
    assert isinstance(error, PeerError) and "refused" in str(error)
    assert dialog.echo_result.text() == "Echo gone failed"


def test_echo_of_an_invalid_row_is_reported_without_a_task(
    dialog: SettingsDialog, runner: TaskRunner, messages: RecordingMessages
) -> None:
    set_cell(dialog, 0, PORT, "not-a-port")
    dialog.nodes.selectRow(0)
    dialog.echo_node.click()
    assert runner.running == []
    ((what, error),) = messages.failures
    assert what == "Echo"
    assert isinstance(error, InputError) and str(error).startswith("nodes[1].port")
