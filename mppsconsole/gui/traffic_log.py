"""The traffic log dock: associations and DIMSE messages, capped in memory, on disk too."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.audit import Pseudonymizer
from mppsconsole.core.events import Traffic
from mppsconsole.log_files import RotatingLog

#: Lines kept in memory; older ones remain in the traffic log file.
MAX_LINES = 10_000
_HEADERS = (
    QT_TRANSLATE_NOOP("TrafficModel", "Time"),
    QT_TRANSLATE_NOOP("TrafficModel", "Dir"),
    QT_TRANSLATE_NOOP("TrafficModel", "Peer"),
    QT_TRANSLATE_NOOP("TrafficModel", "Command"),
    QT_TRANSLATE_NOOP("TrafficModel", "Status"),
    QT_TRANSLATE_NOOP("TrafficModel", "Detail"),
)


def _cells(line: Traffic) -> tuple[str, ...]:
    arrow = "←" if line.direction == "in" else "→"
    return (
        line.time.strftime("%H:%M:%S.%f")[:-3],
        arrow,
        line.peer,
        line.command,
        line.status,
        line.detail,
    )


def _identifiers(line: Traffic) -> tuple[tuple[str, str], ...]:
    subject = line.subject
    if subject is None:
        return ()
    pairs = (
        ("patient_id", subject.patient_id),
        ("patient_name", subject.patient_name),
        ("accession", subject.accession),
    )
    return tuple((field, value) for field, value in pairs if value)


class TrafficModel(QAbstractTableModel):
    def __init__(self, parent: Any = None, cap: int = MAX_LINES) -> None:
        super().__init__(parent)
        self._lines: deque[tuple[str, ...]] = deque()
        # The patient identifiers each line was about (not shown), for de-identified copies.
        self._identifiers: deque[tuple[tuple[str, str], ...]] = deque()
        self._cap = cap

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("TrafficModel", str(_HEADERS[section]))
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            return self._lines[index.row()][index.column()]
        return None

    def append(self, lines: list[Traffic]) -> None:
        """Add a batch at the bottom; drop the oldest beyond the cap, in one block each."""
        if not lines:
            return
        lines = lines[-self._cap :]
        overflow = len(self._lines) + len(lines) - self._cap
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self._lines.popleft()
                self._identifiers.popleft()
            self.endRemoveRows()
        first = len(self._lines)
        self.beginInsertRows(QModelIndex(), first, first + len(lines) - 1)
        self._lines.extend(_cells(line) for line in lines)
        self._identifiers.extend(_identifiers(line) for line in lines)
        self.endInsertRows()

    def text(self, rows: list[int] | None = None, *, deidentify: bool = False) -> str:
        """Tab-separated lines; de-identified: every patient identifier any of the
        chosen lines was about is replaced by a pseudonym (keyed per copy, as the
        audit export does), wherever it appears (an error comment may quote it)."""
        chosen = range(len(self._lines)) if rows is None else rows
        text = "\n".join("\t".join(self._lines[r]) for r in chosen)
        if not deidentify:
            return text
        identifiers = {pair for r in chosen for pair in self._identifiers[r]}
        return Pseudonymizer().text(text, identifiers)


class TrafficDock(QDockWidget):
    """Filterable, copyable view of the traffic; every line also goes to traffic.log."""

    def __init__(self, log_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("traffic")
        self.setWindowTitle(self.tr("Traffic log"))
        self.model = TrafficModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Filter traffic…"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.clicked.connect(self.copy)
        self.copy_anonymous_button = QPushButton(self.tr("Copy de-identified"), self)
        self.copy_anonymous_button.clicked.connect(lambda: self.copy(deidentify=True))
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((95, 30, 220, 90, 170)):
            self.view.setColumnWidth(column, width)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.copy_anonymous_button)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.view)
        self.setWidget(body)
        self._file_log = self._open_file(log_dir)

    @staticmethod
    def _open_file(log_dir: Path | None) -> logging.Logger | None:
        if log_dir is None:
            return None
        logger = logging.getLogger("mppsconsole.traffic")
        logger.propagate = False
        if not logger.handlers:
            log_dir.mkdir(parents=True, exist_ok=True)
            handler = RotatingLog(log_dir / "traffic.log")
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        return logger

    def append(self, lines: list[Traffic]) -> None:
        at_bottom = self.view.verticalScrollBar().value() == self.view.verticalScrollBar().maximum()
        self.model.append(lines)
        if at_bottom:
            self.view.scrollToBottom()
        if self._file_log is not None:
            for line in lines:
                self._file_log.info("%s", "\t".join((line.time.isoformat(), *_cells(line)[1:])))

    def copy(self, deidentify: bool = False) -> None:
        rows = sorted(
            {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()}
        )
        QGuiApplication.clipboard().setText(self.model.text(rows or None, deidentify=deidentify))
