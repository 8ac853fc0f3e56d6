"""The selected step in full: attributes, message history, instances; copy and export."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.errors import UserError
from mppsconsole.core.step import StepSummary
from mppsconsole.core.validation import Finding
from mppsconsole.gui.findings_view import FindingsTable, severity_icon
from mppsconsole.net.dataset_tree import AttributeRow, as_text, tree
from mppsconsole.store import findings, instances, steps
from mppsconsole.store.db import Database


def _fill(widget: QTreeWidget, rows: tuple[AttributeRow, ...]) -> None:
    widget.clear()

    def add(parent: QTreeWidget | QTreeWidgetItem, row: AttributeRow) -> None:
        item = QTreeWidgetItem([row.tag, row.keyword, row.vr, row.value])
        if isinstance(parent, QTreeWidget):
            parent.addTopLevelItem(item)
        else:
            parent.addChild(item)
        for child in row.children:
            add(item, child)

    for row in rows:
        add(widget, row)
    widget.expandToDepth(1)


def _attribute_tree(parent: QWidget) -> QTreeWidget:
    widget = QTreeWidget(parent)
    widget.setHeaderLabels([parent.tr("Tag"), parent.tr("Keyword"), "VR", parent.tr("Value")])
    widget.setColumnWidth(0, 135)
    widget.setColumnWidth(1, 215)
    widget.setColumnWidth(2, 32)
    widget.setUniformRowHeights(True)
    return widget


def _table(parent: QWidget, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    _table_style(table)
    return table


def _table_style(table: QTableWidget) -> None:
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


class DetailPane(QWidget):
    """Shows one step; reloads it from the store when asked (after an update)."""

    copied = Signal(str)  # what was copied, for the status bar
    failed = Signal(str, object)  # what, UserError: for the user messages module

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._uid: str | None = None
        self._direction = ""
        self._history: list[steps.Message] = []
        self._export: dict[str, object] = {}

        self.title = QLabel(self.tr("No step selected"), self)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.copy_button = QPushButton(self.tr("&Copy attributes"), self)
        self.export_button = QPushButton(self.tr("E&xport JSON…"), self)

        self.attributes = _attribute_tree(self)
        self.history = _table(
            self,
            [
                self.tr("Time"),
                self.tr("Direction"),
                self.tr("Command"),
                self.tr("Peer"),
                self.tr("Status"),
                self.tr("Comment"),
            ],
        )
        self.message_tree = _attribute_tree(self)
        history_split = QSplitter(Qt.Orientation.Vertical, self)
        history_split.addWidget(self.history)
        history_split.addWidget(self.message_tree)
        self.instances = _table(
            self,
            [self.tr("SOP Instance UID"), self.tr("Direction"), self.tr("Series"), self.tr("File")],
        )
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.attributes, self.tr("Attributes"))
        self.tabs.addTab(history_split, self.tr("History"))
        self.tabs.addTab(self.instances, self.tr("Instances"))
        self.findings = FindingsTable(self)
        _table_style(self.findings)
        self.tabs.addTab(self.findings, "")
        self._show_findings([])

        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs)

        self.history.itemSelectionChanged.connect(self._show_message)
        self.copy_button.clicked.connect(self.copy_attributes)
        self.export_button.clicked.connect(self.export_json)
        self.show_step(None)

    @property
    def uid(self) -> str | None:
        return self._uid

    @property
    def direction(self) -> str:
        return self._direction

    def show_step(self, step: StepSummary | None) -> None:
        self._uid = step.sop_instance_uid if step else None
        self._direction = step.direction if step else ""
        self.copy_button.setEnabled(step is not None)
        self.export_button.setEnabled(step is not None)
        if step is None:
            self.title.setText(self.tr("No step selected"))
            self.attributes.clear()
            self.history.setRowCount(0)
            self.message_tree.clear()
            self.instances.setRowCount(0)
            self._show_findings([])
            return
        self.reload()

    def reload(self) -> None:
        """Read the selected step again from the store."""
        if self._uid is None:
            return
        with self._db.reading() as conn:
            stored = steps.get(conn, self._uid, self._direction)
            self._history = steps.messages(conn, self._uid, self._direction)
            linked = instances.for_step(conn, self._uid)
            found = findings.for_step(conn, self._uid, self._direction)
        if stored is None:
            self.show_step(None)
            return
        s = stored.summary
        self.title.setText(
            f"<b>{s.patient_name}</b> ({s.patient_id}) · {s.modality} · {s.status}"
            f"<br><small>{s.sop_instance_uid}</small>"
        )
        self._rows = tree(stored.dataset_json)
        _fill(self.attributes, self._rows)
        self.history.setRowCount(len(self._history))
        for row, m in enumerate(self._history):
            status = f"0x{m.status:04X}"
            cells = [
                m.time.strftime("%H:%M:%S"),
                m.direction,
                m.command,
                f"{m.calling_ae}@{m.peer}",
                status,
                m.error_comment,
            ]
            for column, text in enumerate(cells):
                self.history.setItem(row, column, QTableWidgetItem(text))
        self.message_tree.clear()
        self.instances.setRowCount(len(linked))
        for row, i in enumerate(linked):
            cells = [i.sop_instance_uid, i.direction, i.series_instance_uid, i.path]
            for column, text in enumerate(cells):
                self.instances.setItem(row, column, QTableWidgetItem(text))
        self._export = {
            **s.to_json(),
            "attributes": json.loads(stored.dataset_json),
            "messages": [m.to_json() for m in self._history],
            "instances": [i.to_json() for i in linked],
            "findings": [f.to_json() for f in found],
        }
        self._show_findings(found)

    def _show_findings(self, found: list[Finding]) -> None:
        self.findings.show_findings(found)
        index = self.tabs.indexOf(self.findings)
        self.tabs.setTabText(index, self.tr("Findings ({0})").format(len(found)))
        worst = found[0].severity if found else ""
        self.tabs.setTabIcon(index, severity_icon(worst) if worst else QIcon())

    def _show_message(self) -> None:
        rows = self.history.selectionModel().selectedRows()
        if rows:
            _fill(self.message_tree, tree(self._history[rows[0].row()].dataset_json))

    def copy_attributes(self) -> None:
        if self._uid is None:
            return
        QGuiApplication.clipboard().setText(as_text(self._rows))
        self.copied.emit(self.tr("Attributes of {0} copied").format(self._uid))

    def export_json(self, path: str | None = None) -> Path | None:
        """Save the step (DICOM JSON attributes, history, instances) to a file."""
        if self._uid is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export step"), f"{self._uid}.json", self.tr("JSON (*.json)")
            )
            if not path:
                return None
        target = Path(path)
        try:
            text = json.dumps(self._export, indent=2, ensure_ascii=False)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            error = UserError(f"cannot write {target}: {exc.strerror or exc}")
            self.failed.emit(self.tr("Export"), error)
            return None
        self.copied.emit(self.tr("Step exported to {0}").format(target))
        return target
