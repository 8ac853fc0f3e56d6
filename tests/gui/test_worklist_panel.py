"""The worklist tab: editing the local worklist, importing, querying a node, Start."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from mppsconsole.core.errors import InputError
from mppsconsole.core.settings import Node, Settings
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.gui.tasks import TaskRunner
from mppsconsole.gui.worklist_panel import (
    ITEM_ROLE,
    STATUS_COLUMN,
    WorklistItemDialog,
    WorklistPanel,
    WorklistTableModel,
)
from mppsconsole.store import worklist
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, RunningServer
from tests.gui.conftest import RecordingMessages, wait_idle

TODAY = dt.datetime.combine(dt.date.today(), dt.time(9, 30))
OUR_AE = "GUITEST"


def order(step_id: str = "SPS1", **overrides: object) -> WorklistItem:
    base = WorklistItem(
        patient_name="Doe^Jane",
        patient_id="P1",
        modality="CT",
        scheduled_start=TODAY,
        accession_number="A1",
        study_instance_uid="1.2.3",
        requested_procedure_id="RP1",
        scheduled_step_id=step_id,
        description="CT chest",
        scheduled_station_ae="CT1",
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def store(db: Database, *items: WorklistItem) -> None:
    with db.transaction() as conn:
        worklist.add_many(conn, items)


def local_items(db: Database) -> list[WorklistItem]:
    with db.reading() as conn:
        return worklist.list_items(conn)


class SettingsBox:
    """What the window would hand the panel: the settings of the moment."""

    def __init__(self, value: Settings) -> None:
        self.value = value

    def __call__(self) -> Settings:
        return self.value


@pytest.fixture
def settings_box() -> SettingsBox:
    return SettingsBox(Settings(hide_finished_worklist=False))


@pytest.fixture
def panel(
    qtbot: QtBot,
    db: Database,
    runner: TaskRunner,
    messages: RecordingMessages,
    settings_box: SettingsBox,
) -> Iterator[WorklistPanel]:
    widget = WorklistPanel(db, runner, messages, settings_box, lambda: OUR_AE)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    if widget.editor is not None:
        widget.editor.reject()


def open_editor(qtbot: QtBot, panel: WorklistPanel, button: str = "add") -> WorklistItemDialog:
    qtbot.mouseClick(getattr(panel, f"{button}_button"), Qt.MouseButton.LeftButton)
    editor = panel.editor
    assert editor is not None and editor.isVisible()
    return editor


def press_ok(editor: WorklistItemDialog) -> None:
    ok = editor.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok is not None
    ok.click()


def select_rows(panel: WorklistPanel, table_name: str, *rows: int) -> None:
    table = getattr(panel, f"{table_name}_table")
    model = table.model()
    table.clearSelection()
    for row in rows:
        table.selectionModel().select(
            model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def shown(model: WorklistTableModel, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


# --- model ---------------------------------------------------------------------


def test_model_passes_the_qt_model_tester(qtmodeltester: ModelTester) -> None:
    model = WorklistTableModel()
    model.set_items(
        [
            order("S1"),
            order("S2", status="STARTED", accession_number="A2"),
            order("S3", status="COMPLETED", scheduled_start=TODAY - dt.timedelta(days=1)),
            order("S4", status="DISCONTINUED"),
        ]
    )
    qtmodeltester.check(model)
    model.sort(2, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    model.set_items([])
    qtmodeltester.check(model)


def test_model_shows_the_columns_and_the_status_clearly(qapp: QApplication) -> None:
    model = WorklistTableModel()
    model.set_items([order(patient_name="Doe^Jane^^Dr"), order("S2", status="STARTED")])
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers == [
        "Scheduled",
        "Accession",
        "Patient",
        "Patient ID",
        "Modality",
        "Station AE",
        "Status",
        "Description",
    ]
    first = [model.index(0, c).data() for c in range(8)]
    assert first == [
        TODAY.strftime("%Y-%m-%d %H:%M"),
        "A1",
        "Doe Jane  Dr",
        "P1",
        "CT",
        "CT1",
        "SCHEDULED",
        "CT chest",
    ]
    scheduled, started = model.index(0, STATUS_COLUMN), model.index(1, STATUS_COLUMN)
    assert scheduled.data(Qt.ItemDataRole.FontRole).bold()
    assert started.data(Qt.ItemDataRole.FontRole) is None
    assert not scheduled.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert scheduled.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert started.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(1, 0).data(ITEM_ROLE).scheduled_step_id == "S2"


def test_model_sorts_by_column_and_keeps_selection(qtbot: QtBot, panel: WorklistPanel) -> None:
    store(
        panel._db,
        order("S1", accession_number="B", scheduled_start=TODAY),
        order("S2", accession_number="A", scheduled_start=TODAY + dt.timedelta(hours=1)),
    )
    panel.reload()
    assert shown(panel.local_model, 1) == ["B", "A"]
    select_rows(panel, "local", 0)
    panel.local_table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert shown(panel.local_model, 1) == ["A", "B"]
    assert [i.accession_number for i in panel.selected_items()] == ["B"]


# --- local worklist ---------------------------------------------------------------


def test_add_through_the_editor_stores_and_shows_the_item(
    qtbot: QtBot, panel: WorklistPanel, db: Database, messages: RecordingMessages
) -> None:
    editor = open_editor(qtbot, panel)
    qtbot.keyClicks(editor.patient_name, "Roe^Richard")
    qtbot.keyClicks(editor.patient_id, "P42")
    editor.birth_date.setText("19700102")
    editor.sex.setCurrentIndex(editor.sex.findData("M"))
    editor.modality.setCurrentText("MR")
    editor.date.setText("20261121")
    editor.time.setText("1430")
    editor.description.setText("MR knee")
    editor.station_ae.setText("MR1")
    press_ok(editor)

    qtbot.waitUntil(lambda: panel.editor is None, timeout=2000)
    (stored,) = local_items(db)
    assert (stored.patient_name, stored.patient_id, stored.birth_date, stored.sex) == (
        "Roe^Richard",
        "P42",
        "19700102",
        "M",
    )
    assert stored.modality == "MR"
    assert stored.scheduled_start == dt.datetime(2026, 11, 21, 14, 30)
    assert stored.accession_number  # generated
    assert (stored.description, stored.scheduled_station_ae) == ("MR knee", "MR1")
    assert panel.local_model.rowCount() == 1
    assert panel.local_model.item(0) == stored
    assert panel.selected_items() == [stored]  # the new row is selected
    assert messages.infos == ["Worklist item added"]


def test_invalid_date_keeps_the_editor_open_and_says_why(
    qtbot: QtBot, panel: WorklistPanel, db: Database
) -> None:
    editor = open_editor(qtbot, panel)
    editor.patient_name.setText("Roe^Richard")
    editor.patient_id.setText("P42")
    editor.date.setText("20261341")
    press_ok(editor)

    assert panel.editor is editor and editor.isVisible()
    assert editor.error.isVisible()
    assert "Date" in editor.error.text() and "20261341" in editor.error.text()
    assert local_items(db) == []

    editor.date.setText("20261121")
    editor.birth_date.setText("1970")
    press_ok(editor)
    assert editor.isVisible()
    assert editor.error.text().startswith("Birth date")
    assert local_items(db) == []


def test_missing_patient_id_is_reported_in_the_editor(
    qtbot: QtBot, panel: WorklistPanel, db: Database
) -> None:
    editor = open_editor(qtbot, panel)
    editor.patient_name.setText("Roe^Richard")
    press_ok(editor)
    assert editor.isVisible()
    assert "patient_id" in editor.error.text()
    assert local_items(db) == []


def test_edit_keeps_identifiers_and_changes_fields(
    qtbot: QtBot, panel: WorklistPanel, db: Database
) -> None:
    store(db, order())
    panel.reload()
    select_rows(panel, "local", 0)
    editor = open_editor(qtbot, panel, "edit")
    assert editor.patient_name.text() == "Doe^Jane"
    assert (editor.date.text(), editor.time.text()) == (TODAY.strftime("%Y%m%d"), "0930")
    assert editor.accession.text() == "A1"
    editor.description.clear()
    qtbot.keyClicks(editor.description, "CT abdomen")
    editor.time.setText("1100")
    press_ok(editor)

    qtbot.waitUntil(lambda: panel.editor is None, timeout=2000)
    (stored,) = local_items(db)
    assert stored.description == "CT abdomen"
    assert stored.scheduled_start == TODAY.replace(hour=11, minute=0)
    assert (stored.study_instance_uid, stored.scheduled_step_id, stored.accession_number) == (
        "1.2.3",
        "SPS1",
        "A1",
    )
    assert panel.local_model.index(0, 7).data() == "CT abdomen"


def test_edit_keeps_the_character_set_and_refuses_a_name_it_cannot_write(
    qtbot: QtBot, panel: WorklistPanel, db: Database
) -> None:
    store(db, order(patient_name="Müller^Jürgen", character_set="ISO_IR 100"))
    panel.reload()
    select_rows(panel, "local", 0)
    editor = open_editor(qtbot, panel, "edit")
    editor.time.setText("1100")
    press_ok(editor)
    qtbot.waitUntil(lambda: panel.editor is None, timeout=2000)
    (stored,) = local_items(db)
    assert (stored.patient_name, stored.character_set) == ("Müller^Jürgen", "ISO_IR 100")

    select_rows(panel, "local", 0)
    editor = open_editor(qtbot, panel, "edit")
    editor.patient_name.setText("Wang^Fang=王^芳")
    press_ok(editor)
    assert panel.editor is editor and editor.isVisible()
    assert "cannot be written in ISO_IR 100" in editor.error.text()
    assert local_items(db) == [stored]
    editor.reject()


def test_edit_and_delete_need_a_local_selection(panel: WorklistPanel, db: Database) -> None:
    store(db, order("S1"), order("S2"))
    panel.reload()
    assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
    select_rows(panel, "local", 0, 1)
    assert not panel.edit_button.isEnabled()  # one at a time
    assert panel.delete_button.isEnabled()


def test_delete_removes_the_selected_items(
    panel: WorklistPanel, db: Database, messages: RecordingMessages
) -> None:
    store(db, order("S1", accession_number="A1"), order("S2", accession_number="A2"))
    store(db, order("S3", accession_number="A3"))
    panel.reload()
    select_rows(panel, "local", 0, 2)
    panel.delete_button.click()
    assert [i.accession_number for i in local_items(db)] == ["A2"]
    assert shown(panel.local_model, 1) == ["A2"]
    assert messages.infos == ["2 worklist item(s) deleted"]


def test_reload_follows_status_changes_and_keeps_the_selection(
    panel: WorklistPanel, db: Database, settings_box: SettingsBox
) -> None:
    store(db, order("S1", accession_number="A1"), order("S2", accession_number="A2"))
    panel.reload()
    select_rows(panel, "local", 1)
    assert panel.start_button.isEnabled()
    with db.transaction() as conn:
        worklist.set_status_for_references(conn, [("1.2.3", "S2", "A2")], "STARTED")
    panel.reload()
    assert panel.local_model.index(1, STATUS_COLUMN).data() == "STARTED"
    assert [i.scheduled_step_id for i in panel.selected_items()] == ["S2"]
    assert not panel.start_button.isEnabled()

    with db.transaction() as conn:
        worklist.set_status_for_references(conn, [("1.2.3", "S2", "A2")], "COMPLETED")
    settings_box.value = Settings(hide_finished_worklist=True)
    panel.reload()
    assert shown(panel.local_model, 1) == ["A1"]


# --- import ---------------------------------------------------------------------


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(path), ""))
    )


def test_import_json_adds_every_item(
    panel: WorklistPanel,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    messages: RecordingMessages,
) -> None:
    path = tmp_path / "orders.json"
    rows = [
        {"patient_name": "Doe^Jane", "patient_id": "P1", "modality": "CT", "date": "today"},
        {
            "patient_name": "Roe^Richard",
            "patient_id": "P2",
            "modality": "MR",
            "date": "20261121",
            "time": "1015",
            "accession_number": "ACC-7",
        },
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    choose_file(monkeypatch, path)
    panel.import_button.click()

    assert sorted(i.patient_id for i in local_items(db)) == ["P1", "P2"]
    assert panel.local_model.rowCount() == 2
    assert "ACC-7" in shown(panel.local_model, 1)
    assert messages.failures == []
    assert messages.infos == ["2 worklist item(s) imported"]


def test_import_of_a_broken_file_imports_nothing_and_reports_it(
    panel: WorklistPanel,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    messages: RecordingMessages,
) -> None:
    store(db, order())
    panel.reload()
    path = tmp_path / "orders.csv"
    path.write_text(
        "patient_name,patient_id,modality,date\n"
        "Doe^John,P7,CT,20261121\n"
        "Roe^Richard,P8,MR,2026-11-21\n",
        encoding="utf-8",
    )
    choose_file(monkeypatch, path)
    panel.import_button.click()

    assert local_items(db) == [dataclasses.replace(order(), id=local_items(db)[0].id)]
    assert panel.local_model.rowCount() == 1
    ((what, error),) = messages.failures
    assert what == "Import worklist"
    assert isinstance(error, InputError)
    assert "orders.csv" in str(error) and "row 3" in str(error) and "2026-11-21" in str(error)
    assert messages.last_dialog is not None and "row 3" in messages.last_dialog.text()


def test_import_of_an_unreadable_file_is_reported(
    panel: WorklistPanel, tmp_path: Path, messages: RecordingMessages
) -> None:
    assert panel.import_file(tmp_path / "missing.json") == 0
    ((_, error),) = messages.failures
    assert isinstance(error, InputError) and "cannot read" in str(error)


# --- Start -----------------------------------------------------------------------


def test_start_emits_the_selected_scheduled_item(qtbot: QtBot, panel: WorklistPanel) -> None:
    store(panel._db, order("S1", accession_number="A1"), order("S2", accession_number="A2"))
    panel.reload()
    assert not panel.start_button.isEnabled()
    select_rows(panel, "local", 1)
    with qtbot.waitSignal(panel.start_requested, timeout=1000) as signal:
        panel.start_button.click()
    (items,) = signal.args
    assert [i.scheduled_step_id for i in items] == ["S2"]


def test_start_takes_the_group_of_the_same_accession(qtbot: QtBot, panel: WorklistPanel) -> None:
    store(
        panel._db,
        order("S1", accession_number="A1", study_instance_uid="1.1"),
        order("S2", accession_number="A2", study_instance_uid="1.2"),
        order("S3", accession_number="A1", study_instance_uid="1.3"),
        order("S4", accession_number="A1", study_instance_uid="1.4", status="COMPLETED"),
    )
    panel.reload()
    row = panel.local_model.row_where(lambda i: i.scheduled_step_id == "S3")
    assert row is not None
    select_rows(panel, "local", row)
    with qtbot.waitSignal(panel.start_requested, timeout=1000) as signal:
        panel.start_button.click()
    (items,) = signal.args
    assert [i.scheduled_step_id for i in items] == ["S3", "S1"]  # selected first, S4 is done


def test_start_refuses_other_patients_and_started_items(panel: WorklistPanel) -> None:
    store(
        panel._db,
        order("S1", patient_id="P1", accession_number="A1"),
        order("S2", patient_id="P2", accession_number="A2"),
        order("S3", patient_id="P1", accession_number="A3", status="STARTED"),
    )
    panel.reload()
    select_rows(panel, "local", 0, 1)
    assert not panel.start_button.isEnabled()
    select_rows(panel, "local", 2)
    assert not panel.start_button.isEnabled()
    select_rows(panel, "local", 0)
    assert panel.start_button.isEnabled()


# --- remote query ------------------------------------------------------------------


def node_for(scp: RunningServer) -> Node:
    return Node("self-test", scp.ae_title, LOOPBACK, scp.port)


@pytest.fixture
def query_settings(scp: RunningServer, settings_box: SettingsBox) -> Settings:
    settings = Settings(
        hide_finished_worklist=False,
        nodes=(node_for(scp),),
        worklist_destination="self-test",
    )
    settings_box.value = settings
    return settings


def test_node_combo_offers_self_and_the_nodes_with_the_worklist_default(
    panel: WorklistPanel, settings_box: SettingsBox
) -> None:
    settings_box.value = Settings(
        nodes=(Node("RIS", "RIS", LOOPBACK, 104), Node("PACS", "PACS", LOOPBACK, 105)),
        worklist_destination="PACS",
    )
    panel.reload()
    combo = panel.node_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["self", "RIS", "PACS"]
    assert combo.currentData() == "PACS"
    combo.setCurrentIndex(1)
    settings_box.value = dataclasses.replace(
        settings_box.value, nodes=(*settings_box.value.nodes, Node("X", "X", LOOPBACK, 1))
    )
    panel.reload()
    assert combo.currentData() == "RIS"  # the user's choice survives a settings change
    assert combo.count() == 4


def test_query_form_builds_the_matching_keys(panel: WorklistPanel) -> None:
    panel.date_combo.setCurrentIndex(panel.date_combo.findData("range"))
    assert panel.date_from.isEnabled() and panel.date_to.isEnabled()
    panel.date_from.setDate(dt.date(2026, 11, 1))
    panel.date_to.setDate(dt.date(2026, 11, 30))
    panel.modality.setCurrentText("mr")
    panel.station_ae.setText("MR1")
    panel.patient_name.setText("DOE^*")
    panel.accession.setText("A?")
    query = panel.current_query()
    assert (query.start_date, query.modality, query.scheduled_station_ae) == (
        "20261101-20261130",
        "MR",
        "MR1",
    )
    assert (query.patient_name, query.accession_number) == ("DOE^*", "A?")
    panel.date_combo.setCurrentIndex(panel.date_combo.findData("today"))
    assert panel.current_query().start_date == dt.date.today().strftime("%Y%m%d")
    assert not panel.date_from.isEnabled()
    panel.date_combo.setCurrentIndex(panel.date_combo.findData("any"))
    assert panel.current_query().start_date == ""


def test_backwards_date_range_is_reported_not_queried(
    panel: WorklistPanel, runner: TaskRunner, messages: RecordingMessages
) -> None:
    panel.date_combo.setCurrentIndex(panel.date_combo.findData("range"))
    panel.date_from.setDate(dt.date(2026, 11, 30))
    panel.date_to.setDate(dt.date(2026, 11, 1))
    panel.query_button.click()
    assert runner.running == []
    ((what, error),) = messages.failures
    assert what == "Worklist query" and isinstance(error, InputError)


def test_remote_query_returns_the_items_of_the_node_and_caches_them(
    qtbot: QtBot,
    panel: WorklistPanel,
    runner: TaskRunner,
    scp: RunningServer,
    query_settings: Settings,
    messages: RecordingMessages,
) -> None:
    store(
        scp.db,
        order("S1", accession_number="A1", modality="CT"),
        order("S2", accession_number="A2", modality="MR", scheduled_station_ae="MR1"),
        order("S3", accession_number="A3", scheduled_start=TODAY - dt.timedelta(days=2)),
    )
    panel.reload()
    assert panel.node_combo.currentData() == "self-test"
    panel.query_button.click()
    assert not panel.query_button.isEnabled() and panel.stop_button.isEnabled()
    assert [t.label for t in runner.running] == ["Worklist query"]
    wait_idle(qtbot, runner)

    assert messages.failures == []
    assert sorted(shown(panel.results_model, 1)) == ["A1", "A2"]  # today only
    assert panel.result_count.text() == "2 item(s)"
    assert panel.query_button.isEnabled() and not panel.stop_button.isEnabled()
    assert {i.source for i in panel.results_model.items()} == {"self-test"}
    with scp.db.reading() as conn:
        cached = worklist.list_items(conn, source="self-test")
    assert sorted(i.accession_number for i in cached) == ["A1", "A2"]

    panel.modality.setCurrentText("MR")
    panel.query_button.click()
    wait_idle(qtbot, runner)
    assert shown(panel.results_model, 1) == ["A2"]
    assert shown(panel.results_model, 5) == ["MR1"]


def test_start_works_on_a_result_row(
    qtbot: QtBot,
    panel: WorklistPanel,
    runner: TaskRunner,
    scp: RunningServer,
    query_settings: Settings,
) -> None:
    store(
        scp.db,
        order("S1", accession_number="G1", study_instance_uid="1.1"),
        order("S2", accession_number="G1", study_instance_uid="1.2"),
        order("S3", accession_number="OTHER", study_instance_uid="1.3"),
    )
    panel.reload()
    select_rows(panel, "local", 0)
    panel.query_button.click()
    wait_idle(qtbot, runner)
    row = panel.results_model.row_where(lambda i: i.scheduled_step_id == "S2")
    assert row is not None
    select_rows(panel, "results", row)
    assert not panel.local_table.selectionModel().hasSelection()  # one selection at a time
    with qtbot.waitSignal(panel.start_requested, timeout=1000) as signal:
        panel.start_button.click()
    (items,) = signal.args
    assert [(i.scheduled_step_id, i.source) for i in items] == [
        ("S2", "self-test"),
        ("S1", "self-test"),
    ]


def test_stop_cancels_a_long_query(
    qtbot: QtBot,
    panel: WorklistPanel,
    runner: TaskRunner,
    scp: RunningServer,
    query_settings: Settings,
    messages: RecordingMessages,
) -> None:
    store(scp.db, *(order(f"S{n}", accession_number=f"A{n}") for n in range(300)))
    panel.reload()
    panel.query_button.click()
    panel.stop_button.click()
    assert panel.result_count.text() == "Stopping…"
    wait_idle(qtbot, runner)

    assert messages.failures == []
    result = panel.last_result
    assert result is not None and result.cancelled and not result.truncated
    assert len(result.items) < 300
    assert panel.results_model.rowCount() == len(result.items)
    assert "stopped" in panel.result_count.text()


def test_query_to_a_closed_port_fails_through_messages(
    qtbot: QtBot,
    panel: WorklistPanel,
    runner: TaskRunner,
    settings_box: SettingsBox,
    messages: RecordingMessages,
    free_port: int,
) -> None:
    settings_box.value = Settings(
        nodes=(Node("gone", "GONE", LOOPBACK, free_port),), worklist_destination="gone"
    )
    panel.reload()
    panel.query_button.click()
    wait_idle(qtbot, runner)
    ((what, _),) = messages.failures
    assert what == "Worklist query"
    assert panel.result_count.text() == "Query failed"
    assert panel.query_button.isEnabled()
