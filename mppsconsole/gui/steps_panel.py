"""The procedure step table with its filter bar."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QT_TRANSLATE_NOOP, QItemSelectionModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.mpps import STATUSES
from mppsconsole.core.step import RECEIVED, SENT, StepSummary
from mppsconsole.gui.step_filter import StepFilter
from mppsconsole.gui.step_model import ENDED_COLUMN, STEP_ROLE, StepTableModel

_PERIODS = (
    (QT_TRANSLATE_NOOP("StepsPanel", "Any date"), None),
    (QT_TRANSLATE_NOOP("StepsPanel", "Today"), 0),
    (QT_TRANSLATE_NOOP("StepsPanel", "Last 7 days"), 6),
    (QT_TRANSLATE_NOOP("StepsPanel", "Last 30 days"), 29),
)


class StepsPanel(QWidget):
    """Filter bar + table; emits the selected step (or None) whenever it changes."""

    selection_changed = Signal(object)  # StepSummary | None

    def __init__(self, model: StepTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Filter: patient, ID, accession, station, UID…"))
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox(self)
        self.status.addItem(self.tr("All states"), "")
        for status in STATUSES:
            self.status.addItem(status, status)
        self.direction = QComboBox(self)
        self.direction.addItem(self.tr("Received and sent"), "")
        self.direction.addItem(self.tr("Received"), RECEIVED)
        self.direction.addItem(self.tr("Sent"), SENT)
        self.period = QComboBox(self)
        for period, days in _PERIODS:
            self.period.addItem(self.tr(str(period)), days)
        self.count = QLabel(self)

        bar = QHBoxLayout()
        label = QLabel(self.tr("&Filter:"), self)
        label.setBuddy(self.search)
        bar.addWidget(label)
        bar.addWidget(self.search, 1)
        for widget in (self.status, self.direction, self.period, self.count):
            bar.addWidget(widget)

        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The indicator first: enabling sorting sorts by it at once (section 0 by default).
        self.table.horizontalHeader().setSortIndicator(model.sort_column, model.sort_order)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        for column, width in enumerate((115, 150, 80, 95, 65, 80, 150, 135, 135, 95, 70)):
            self.table.setColumnWidth(column, width)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)

        self.search.textChanged.connect(self._refilter)
        for combo in (self.status, self.direction, self.period):
            combo.currentIndexChanged.connect(self._refilter)
        self.table.selectionModel().selectionChanged.connect(self._emit_selection)
        model.rowsInserted.connect(self._update_count)
        model.rowsRemoved.connect(self._update_count)
        model.modelReset.connect(self._update_count)
        model.modelReset.connect(self._show_sort_order)
        model.layoutChanged.connect(self._update_count)
        self._update_count()

    def _show_sort_order(self) -> None:
        """A model reset clears the header's indicator; the model keeps its order."""
        header = self.table.horizontalHeader()
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)

    def tick(self) -> None:
        """Advance the model's clock and repaint the visible part of the elapsed column."""
        self.model.tick()
        viewport = self.table.viewport()
        x = self.table.columnViewportPosition(ENDED_COLUMN)
        viewport.update(x, 0, self.table.columnWidth(ENDED_COLUMN), viewport.height())

    def current_filter(self) -> StepFilter:
        days = self.period.currentData()
        start_from = dt.date.today() - dt.timedelta(days=days) if days is not None else None
        return StepFilter(
            text=self.search.text().strip(),
            status=self.status.currentData(),
            direction=self.direction.currentData(),
            start_from=start_from,
        )

    def _refilter(self) -> None:
        self.model.set_filter(self.current_filter())
        self._update_count()
        self._emit_selection()

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.step_count
        self.count.setText(
            self.tr("{0} steps").format(total)
            if shown == total
            else self.tr("{0} of {1} steps").format(shown, total)
        )

    def selected_step(self) -> StepSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        step = rows[0].data(STEP_ROLE)
        return step if isinstance(step, StepSummary) else None

    def select(self, uid: str, direction: str | None = None) -> bool:
        """Select the row of step ``uid`` if it is shown; True when selected."""
        row = self.model.row_of(uid, direction)
        if row is None:
            return False
        index = self.model.index(row, 0)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selected_step())

    def refresh_selection(self) -> None:
        """Re-announce the selection (its step may have changed underneath)."""
        self._emit_selection()
