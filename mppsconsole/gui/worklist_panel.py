"""The worklist tab: the console's own orders, and queries to a node's worklist.

Two tables share one model class and one Start button. The local worklist is what our
SCP serves to modalities, so it is edited here (add, edit, delete, import) and
re-read whenever procedure steps move its statuses. The query form is the modality
side (RAD-5): it asks a node, shows and caches what came back, and a result row can be
started like a local one. Network and file work goes through the service functions;
nothing here speaks DICOM.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDate,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core import audit
from mppsconsole.core.dicomtime import format_da, parse_date
from mppsconsole.core.errors import InputError, UserError
from mppsconsole.core.events import Subject
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS
from mppsconsole.core.settings import SELF_NODE, Node, Settings
from mppsconsole.core.worklist import SCHEDULED, WorklistItem, build_item
from mppsconsole.core.worklist_file import parse_worklist_file
from mppsconsole.gui.icons import STATUS_COLOURS, status_icon
from mppsconsole.gui.messages import UserMessages
from mppsconsole.gui.tasks import Task, TaskRunner
from mppsconsole.net.images import MODALITIES
from mppsconsole.net.mwl_scu import QueryResult, query_worklist
from mppsconsole.store import audit as audit_store
from mppsconsole.store import worklist
from mppsconsole.store.db import Database

AnyIndex = QModelIndex | QPersistentModelIndex
#: Role carrying the whole WorklistItem of the row.
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
#: TaskRunner label of a worklist query (what the task is, for whoever watches the runner).
QUERY_LABEL = "Worklist query"

SCHEDULED_COLUMN, STATUS_COLUMN = 0, 6
#: Worklist statuses drawn like the procedure step states they follow (DESIGN.md §3).
_STATUS_ICONS = {
    "STARTED": IN_PROGRESS,
    IN_PROGRESS: IN_PROGRESS,
    COMPLETED: COMPLETED,
    DISCONTINUED: DISCONTINUED,
}
_SCHEDULED_COLOUR = QColor("#8a5a00")  # amber: waiting for a modality
_DATE_MODES = ("today", "range", "any")


def _headers() -> tuple[str, ...]:
    # Literal translate() calls, so that lupdate finds every header.
    return (
        QCoreApplication.translate("WorklistTableModel", "Scheduled"),
        QCoreApplication.translate("WorklistTableModel", "Accession"),
        QCoreApplication.translate("WorklistTableModel", "Patient"),
        QCoreApplication.translate("WorklistTableModel", "Patient ID"),
        QCoreApplication.translate("WorklistTableModel", "Modality"),
        QCoreApplication.translate("WorklistTableModel", "Station AE"),
        QCoreApplication.translate("WorklistTableModel", "Status"),
        QCoreApplication.translate("WorklistTableModel", "Description"),
    )


_CELLS: tuple[Callable[[WorklistItem], str], ...] = (
    lambda i: i.scheduled_start.strftime("%Y-%m-%d %H:%M"),
    lambda i: i.accession_number,
    lambda i: i.patient_name.replace("^", " ").strip(),
    lambda i: i.patient_id,
    lambda i: i.modality,
    lambda i: i.scheduled_station_ae,
    lambda i: i.status,
    lambda i: i.description,
)


def _sort_key(column: int) -> Callable[[WorklistItem], tuple[str, str]]:
    """Text columns case-folded; ties (and the Scheduled column) by ISO start time.

    ISO text rather than datetimes: an imported item may carry a time zone, and
    naive and aware datetimes do not compare.
    """
    if column == SCHEDULED_COLUMN:
        return lambda i: (i.scheduled_start.isoformat(), i.accession_number)
    cell = _CELLS[column]
    return lambda i: (cell(i).casefold(), i.scheduled_start.isoformat())


def _identity(item: WorklistItem) -> tuple[str, str, str]:
    """What makes an order unique in the store (source, study, scheduled step)."""
    return item.source, item.study_instance_uid, item.scheduled_step_id


class WorklistTableModel(QAbstractTableModel):
    """Worklist items, one per row, sorted here (a worklist is small; no proxy needed)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[WorklistItem] = []
        self._sort_column = SCHEDULED_COLUMN
        self._descending = False
        self._bold = QFont()
        self._bold.setBold(True)

    # -- Qt interface --------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_CELLS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(_CELLS)
        ):
            return _headers()[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _CELLS[column](item)
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate(
                "WorklistTableModel", "Requested procedure {0}, scheduled step {1}\nStudy {2}"
            ).format(item.requested_procedure_id, item.scheduled_step_id, item.study_instance_uid)
        if column != STATUS_COLUMN:
            return None
        # The status is what a technologist scans for: icon (shape + colour), colour, and
        # bold while the order still waits to be started.
        if role == Qt.ItemDataRole.DecorationRole:
            return status_icon(_STATUS_ICONS.get(item.status, item.status))
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = STATUS_COLOURS.get(_STATUS_ICONS.get(item.status, ""))
            if colour is None and item.status == SCHEDULED:
                colour = _SCHEDULED_COLOUR
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.FontRole and item.status == SCHEDULED:
            return self._bold
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(_CELLS):
            return
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        key = _sort_key(column)
        order_of_rows = sorted(
            range(len(self._items)), key=lambda r: key(self._items[r]), reverse=self._descending
        )
        new_row = {old: new for new, old in enumerate(order_of_rows)}
        self._items = [self._items[r] for r in order_of_rows]
        before = self.persistentIndexList()
        self.changePersistentIndexList(
            before, [self.index(new_row[i.row()], i.column()) for i in before]
        )
        self.layoutChanged.emit()

    # -- content ---------------------------------------------------------------

    def set_items(self, items: Iterable[WorklistItem]) -> None:
        """Replace every row, kept in the current sort order."""
        self.beginResetModel()
        self._items = sorted(items, key=_sort_key(self._sort_column), reverse=self._descending)
        self.endResetModel()

    def item(self, row: int) -> WorklistItem:
        return self._items[row]

    def items(self) -> list[WorklistItem]:
        return list(self._items)

    def row_where(self, wanted: Callable[[WorklistItem], bool]) -> int | None:
        return next((r for r, item in enumerate(self._items) if wanted(item)), None)

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder


class WorklistItemDialog(QDialog):
    """Add or edit one local order; stays open until :func:`build_item` accepts the input.

    Validation is the same function the CLI and the import use, so the dialog cannot
    accept an item that ``worklist add`` would refuse. An edit keeps what the dialog
    does not show (study and step identifiers, protocol, status), so a modality that
    already fetched the order still finds it.
    """

    def __init__(self, item: WorklistItem | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original = item
        self._item: WorklistItem | None = None
        self.setWindowTitle(self.tr("Edit worklist item") if item else self.tr("Add worklist item"))
        now = dt.datetime.now()
        self.patient_name = QLineEdit(self)
        self.patient_name.setPlaceholderText("Family^Given")
        self.patient_id = QLineEdit(self)
        self.birth_date = QLineEdit(self)
        self.birth_date.setPlaceholderText(self.tr("YYYYMMDD"))
        self.sex = QComboBox(self)
        for text, value in ((self.tr("unknown"), ""), ("F", "F"), ("M", "M"), ("O", "O")):
            self.sex.addItem(text, value)
        self.modality = QComboBox(self)
        self.modality.setEditable(True)
        self.modality.addItems(list(MODALITIES))
        self.date = QLineEdit(now.strftime("%Y%m%d"), self)
        self.date.setPlaceholderText(self.tr("YYYYMMDD or today"))
        self.time = QLineEdit(now.strftime("%H%M"), self)
        self.time.setPlaceholderText(self.tr("HHMM"))
        self.accession = QLineEdit(self)
        self.accession.setPlaceholderText(self.tr("generated when empty"))
        self.description = QLineEdit(self)
        self.station_ae = QLineEdit(self)
        self.station_ae.setPlaceholderText(self.tr("any station"))
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #c8452f")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self._labels: dict[QWidget, str] = {}
        form = QFormLayout()
        for label, widget in (
            (self.tr("Patient &name:"), self.patient_name),
            (self.tr("Patient &ID:"), self.patient_id),
            (self.tr("&Birth date:"), self.birth_date),
            (self.tr("&Sex:"), self.sex),
            (self.tr("&Modality:"), self.modality),
            (self.tr("&Date:"), self.date),
            (self.tr("&Time:"), self.time),
            (self.tr("A&ccession:"), self.accession),
            (self.tr("D&escription:"), self.description),
            (self.tr("Station &AE:"), self.station_ae),
        ):
            form.addRow(label, widget)
            self._labels[widget] = label.replace("&", "").rstrip(":")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if item is not None:
            self._load(item)
        self.resize(420, self.sizeHint().height())

    def _load(self, item: WorklistItem) -> None:
        self.patient_name.setText(item.patient_name)
        self.patient_id.setText(item.patient_id)
        self.birth_date.setText(item.birth_date)
        self.sex.setCurrentIndex(max(0, self.sex.findData(item.sex)))
        self.modality.setCurrentText(item.modality)
        start = item.scheduled_start
        self.date.setText(start.strftime("%Y%m%d"))
        self.time.setText(start.strftime("%H%M%S" if start.second else "%H%M"))
        self.accession.setText(item.accession_number)
        self.description.setText(item.description)
        self.station_ae.setText(item.scheduled_station_ae)

    def fields(self) -> dict[str, str]:
        """The user's input in :func:`build_item`'s terms, plus what an edit must keep."""
        fields = {
            "patient_name": self.patient_name.text(),
            "patient_id": self.patient_id.text(),
            "birth_date": self.birth_date.text(),
            "sex": str(self.sex.currentData() or ""),
            "modality": self.modality.currentText(),
            "date": self.date.text(),
            "time": self.time.text(),
            "accession_number": self.accession.text(),
            "description": self.description.text(),
            "scheduled_station_ae": self.station_ae.text().strip(),
        }
        original = self._original
        if original is not None:
            for kept in (
                "study_instance_uid",
                "requested_procedure_id",
                "scheduled_step_id",
                "referring_physician",
                "step_description",
                "protocol_code_value",
                "protocol_coding_scheme",
                "protocol_code_meaning",
                "character_set",
                "status",
                "source",
            ):
                fields[kept] = getattr(original, kept)
        return fields

    def _field_of(self, message: str) -> QWidget | None:
        """The input an error message is about, so the dialog can point at it."""
        head = message.split("'")[0]  # the quoted value could contain any keyword
        for key, widget in (
            ("patient_name", self.patient_name),
            ("patient_id", self.patient_id),
            ("sex", self.sex),
            ("modality", self.modality),
            ("station AE", self.station_ae),
            ("time", self.time),
        ):
            if key in head:
                return widget
        if "date" in head:
            # build_item's date message does not say which date; it checks the birth
            # date first, so that is the culprit whenever it alone is invalid.
            birth = self.birth_date.text().strip()
            if birth:
                try:
                    parse_date(birth)
                except InputError:
                    return self.birth_date
            return self.date
        return None

    def accept(self) -> None:
        try:
            item = build_item(self.fields())
        except InputError as exc:
            field = self._field_of(str(exc))
            label = self._labels.get(field) if field is not None else None
            self.error.setText(f"{label}: {exc}" if label else str(exc))
            self.error.show()
            if field is not None:
                field.setFocus(Qt.FocusReason.OtherFocusReason)
                if isinstance(field, QLineEdit):
                    field.selectAll()
            return
        original = self._original
        if original is not None and original.scheduled_start.tzinfo is not None:
            start = item.scheduled_start.replace(tzinfo=original.scheduled_start.tzinfo)
            item = dataclasses.replace(item, scheduled_start=start)
        self._item = item
        super().accept()

    def item(self) -> WorklistItem:
        """The validated item (only after the dialog was accepted)."""
        if self._item is None:
            raise RuntimeError("the worklist item dialog was not accepted")
        return self._item


def _table(model: WorklistTableModel, parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    # Indicator first: enabling sorting sorts by whatever the header indicates.
    table.horizontalHeader().setSortIndicator(model.sort_column, model.sort_order)
    table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(22)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table, so the form stays reachable
    for column, width in enumerate((130, 110, 170, 90, 70, 100, 110)):
        table.setColumnWidth(column, width)
    return table


def _rows(table: QTableView) -> list[int]:
    return sorted(index.row() for index in table.selectionModel().selectedRows())


class WorklistPanel(QWidget):
    """The local worklist and the remote query form, with one Start for either."""

    #: list[WorklistItem]: the selection plus the scheduled items of the same accession
    #: and source (IHE group case: one procedure step performs several requested ones).
    start_requested = Signal(list)

    def __init__(
        self,
        db: Database,
        runner: TaskRunner,
        messages: UserMessages,
        settings: Callable[[], Settings],
        local_ae_title: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._runner = runner
        self._messages = messages
        self._settings = settings
        self._local_ae_title = local_ae_title
        self._query_task: Task | None = None
        self._nodes_shown: tuple[Any, ...] | None = None
        #: The open Add/Edit dialog, if any (non-blocking, so the SCP view stays live).
        self.editor: WorklistItemDialog | None = None
        #: The last query's outcome (None before the first one finished).
        self.last_result: QueryResult | None = None

        self.local_model = WorklistTableModel(self)
        self.results_model = WorklistTableModel(self)
        local_box = self._make_local_box()
        query_box = self._make_query_box()

        self.start_button = QPushButton(self.tr("Sta&rt procedure step"), self)
        self.start_button.setToolTip(
            self.tr("Start a procedure step (MPPS IN PROGRESS) for the selected scheduled item")
        )
        start_row = QHBoxLayout()
        start_row.addStretch(1)
        start_row.addWidget(self.start_button)

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(local_box)
        split.addWidget(query_box)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(start_row)

        self._chain_focus(
            self.local_table,
            self.add_button,
            self.edit_button,
            self.delete_button,
            self.import_button,
            self.node_combo,
            self.date_combo,
            self.date_from,
            self.date_to,
            self.modality,
            self.station_ae,
            self.patient_name,
            self.accession,
            self.query_button,
            self.stop_button,
            self.results_table,
            self.start_button,
        )
        self._connect()
        self.reload()

    # -- construction ----------------------------------------------------------

    def _make_local_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Local worklist (served by this console)"), self)
        self.local_table = _table(self.local_model, box)
        self.add_button = QPushButton(self.tr("A&dd…"), box)
        self.edit_button = QPushButton(self.tr("&Edit…"), box)
        self.delete_button = QPushButton(self.tr("De&lete"), box)
        self.import_button = QPushButton(self.tr("&Import…"), box)
        self.import_button.setToolTip(self.tr("Import orders from a JSON or CSV file"))
        self.local_count = QLabel(box)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button, self.import_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.local_count)
        layout = QVBoxLayout(box)
        layout.addWidget(self.local_table, 1)
        layout.addLayout(buttons)
        return box

    def _make_query_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Query a worklist (modality side)"), self)
        self.node_combo = QComboBox(box)
        self.node_combo.setMinimumContentsLength(16)
        self.date_combo = QComboBox(box)
        for text, mode in zip(
            (self.tr("Today"), self.tr("Date range"), self.tr("Any date")), _DATE_MODES, strict=True
        ):
            self.date_combo.addItem(text, mode)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today, box)
        self.date_to = QDateEdit(today, box)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.date_from.setToolTip(self.tr("First day of the range"))
        self.date_to.setToolTip(self.tr("Last day of the range"))
        self.modality = QComboBox(box)
        self.modality.setEditable(True)
        self.modality.addItems(["", *MODALITIES])
        modality_line = self.modality.lineEdit()
        assert modality_line is not None  # editable combo
        modality_line.setPlaceholderText(self.tr("any"))
        self._modality_line = modality_line
        self.station_ae = QLineEdit(box)
        self.station_ae.setPlaceholderText(self.tr("any"))
        self.patient_name = QLineEdit(box)
        self.patient_name.setPlaceholderText(self.tr("e.g. DOE^* (wildcards * and ?)"))
        self.accession = QLineEdit(box)
        self.accession.setPlaceholderText(self.tr("any"))
        self.query_button = QPushButton(self.tr("&Query"), box)
        self.query_button.setDefault(False)
        self.stop_button = QPushButton(self.tr("Stop"), box)
        self.stop_button.setToolTip(self.tr("Stop the running query (Esc)"))
        self.result_count = QLabel(box)
        self.results_table = _table(self.results_model, box)

        dates = QHBoxLayout()
        dates.setContentsMargins(0, 0, 0, 0)
        dates.addWidget(self.date_combo)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel(self.tr("to"), box))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        grid = QGridLayout()
        for row, column, label, field in (
            (0, 0, self.tr("N&ode:"), self.node_combo),
            (0, 2, self.tr("Sc&heduled date:"), dates),
            (1, 0, self.tr("&Modality:"), self.modality),
            (1, 2, self.tr("S&tation AE:"), self.station_ae),
            (2, 0, self.tr("P&atient name:"), self.patient_name),
            (2, 2, self.tr("A&ccession:"), self.accession),
        ):
            caption = QLabel(label, box)
            if isinstance(field, QWidget):
                caption.setBuddy(field)
                grid.addWidget(field, row, column + 1)
            else:
                caption.setBuddy(self.date_combo)
                grid.addLayout(field, row, column + 1)
            grid.addWidget(caption, row, column)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.query_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.result_count, 1)
        layout = QVBoxLayout(box)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.results_table, 1)
        return box

    def _chain_focus(self, *widgets: QWidget) -> None:
        for first, second in itertools.pairwise(widgets):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.add_button.clicked.connect(lambda: self._open_editor(None))
        self.edit_button.clicked.connect(self._edit_selected)
        self.delete_button.clicked.connect(self._delete_selected)
        self.import_button.clicked.connect(self._choose_import_file)
        self.start_button.clicked.connect(self._start)
        self.query_button.clicked.connect(self.start_query)
        self.stop_button.clicked.connect(self.stop_query)
        self.date_combo.currentIndexChanged.connect(self._update_dates)
        for edit in (self.station_ae, self.patient_name, self.accession):
            edit.returnPressed.connect(self.start_query)
        self._modality_line.returnPressed.connect(self.start_query)
        self.local_table.doubleClicked.connect(lambda _: self._edit_selected())
        for table in (self.local_table, self.results_table):
            table.selectionModel().selectionChanged.connect(
                lambda *_, t=table: self._on_selection(t)
            )
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.local_table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._delete_selected)
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop.activated.connect(self.stop_query)
        self._runner.succeeded.connect(self._on_task_succeeded)
        self._runner.failed.connect(self._on_task_failed)
        self._runner.cancelled.connect(self._on_task_cancelled)
        self._update_dates()

    # -- public interface --------------------------------------------------------

    def reload(self) -> None:
        """Re-read the local worklist (statuses move when steps arrive), keeping the selection."""
        settings = self._settings()
        with self._db.reading() as conn:
            items = worklist.list_items(
                conn, source="local", include_finished=not settings.hide_finished_worklist
            )
        selected = {self.local_model.item(r).id for r in _rows(self.local_table)}
        self.local_model.set_items(items)
        self._select(self.local_table, lambda i: i.id in selected)
        self.local_count.setText(self.tr("%n item(s)", "", len(items)))
        self.refresh_nodes()
        self._update_actions()

    def selected_items(self) -> list[WorklistItem]:
        """The selected rows of whichever table holds the selection (only one does)."""
        for table, model in self._tables():
            rows = _rows(table)
            if rows:
                return [model.item(r) for r in rows]
        return []

    def refresh_nodes(self) -> None:
        """Offer the configured nodes (after a settings change), keeping the user's choice."""
        settings = self._settings()
        shown = (settings.nodes, settings.worklist_destination, settings.ae_title, settings.port)
        if shown == self._nodes_shown:
            return  # rebuilding would close an open popup on every reload
        default_changed = self._nodes_shown is None or self._nodes_shown[1] != shown[1]
        self._nodes_shown = shown
        # A new default destination wins; otherwise the user's last choice stays.
        current = None if default_changed else self.node_combo.currentData()
        names = [SELF_NODE, *(n.name for n in settings.nodes if n.name != SELF_NODE)]
        self.node_combo.clear()
        for name in names:
            node = settings.node(name)
            text = self.tr("self (this console)") if name == SELF_NODE else name
            self.node_combo.addItem(text, name)
            if node is not None:
                where = f"{node.ae_title}@{node.host}:{node.port}"
                self.node_combo.setItemData(
                    self.node_combo.count() - 1, where, Qt.ItemDataRole.ToolTipRole
                )
        for wanted in (current, settings.worklist_destination, SELF_NODE):
            index = self.node_combo.findData(wanted)
            if index >= 0:
                self.node_combo.setCurrentIndex(index)
                break

    def current_query(self) -> WorklistQuery:
        """The query form as matching keys; InputError when the date range is backwards."""
        mode = self.date_combo.currentData()
        start_date = ""
        if mode == "today":
            start_date = format_da(dt.date.today())
        elif mode == "range":
            low, high = self.date_from.date(), self.date_to.date()
            if low > high:
                raise InputError(self.tr("the date range ends before it starts"))
            start_date = f"{low.toString('yyyyMMdd')}-{high.toString('yyyyMMdd')}"
        return WorklistQuery(
            patient_name=self.patient_name.text().strip(),
            accession_number=self.accession.text().strip(),
            modality=self.modality.currentText().strip().upper(),
            scheduled_station_ae=self.station_ae.text().strip(),
            start_date=start_date,
        )

    def start_query(self) -> None:
        """Query the chosen node in a worker thread; results are shown and cached."""
        if self._query_task is not None:
            return
        what = self.tr("Worklist query")
        name = self.node_combo.currentData()
        node = self._settings().node(name) if isinstance(name, str) else None
        try:
            if node is None:
                raise InputError(self.tr("no node named {0}").format(name))
            query = self.current_query()
        except InputError as exc:
            self._messages.failure(what, exc)
            return
        self._query_task = self._runner.run(
            QUERY_LABEL, self._query_work(node, query), self.tr("Query {0}").format(node.name)
        )
        self.result_count.setText(self.tr("Querying {0}…").format(node.name))
        self._update_actions()

    def stop_query(self) -> None:
        """Ask the running query to stop: the worker sends C-CANCEL at the next response."""
        if self._query_task is not None and not self._query_task.cancel.is_set():
            self._query_task.cancel.set()
            self.result_count.setText(self.tr("Stopping…"))

    def import_file(self, path: Path) -> int:
        """Import a JSON or CSV file, all or nothing; the number of items imported."""
        what = self.tr("Import worklist")
        try:
            text = path.read_text(encoding="utf-8-sig")  # a BOM is common in CSV exports
            items = parse_worklist_file(path.name, text)
            with self._db.transaction() as conn:
                count = worklist.add_many(conn, items)
                audit_store.append(conn, [_audited("gui worklist import", audit.CREATE, count)])
        except UserError as exc:
            self._messages.failure(what, InputError(f"{path.name}: {exc}"))
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            self._messages.failure(what, InputError(f"{path}: cannot read: {exc}"))
            return 0
        self.reload()
        self._messages.info(self.tr("%n worklist item(s) imported", "", count))
        return count

    # -- local worklist ----------------------------------------------------------

    def _tables(self) -> tuple[tuple[QTableView, WorklistTableModel], ...]:
        return (self.local_table, self.local_model), (self.results_table, self.results_model)

    def _open_editor(self, item: WorklistItem | None) -> None:
        if self.editor is not None:
            self.editor.raise_()
            self.editor.activateWindow()
            return
        dialog = WorklistItemDialog(item, self)
        item_id = item.id if item is not None else None
        dialog.accepted.connect(lambda: self._save(item_id, dialog.item()))
        dialog.finished.connect(lambda _: self._editor_closed(dialog))
        self.editor = dialog
        dialog.open()  # window-modal without a nested event loop

    def _editor_closed(self, dialog: WorklistItemDialog) -> None:
        if self.editor is dialog:
            self.editor = None
        dialog.deleteLater()

    def _edit_selected(self) -> None:
        rows = _rows(self.local_table)
        if len(rows) == 1:
            self._open_editor(self.local_model.item(rows[0]))

    def _save(self, item_id: int | None, item: WorklistItem) -> None:
        what = self.tr("Add worklist item") if item_id is None else self.tr("Edit worklist item")
        try:
            with self._db.transaction() as conn:
                if item_id is None:
                    worklist.add_many(conn, [item])
                elif not worklist.update(conn, item_id, item):
                    raise InputError(self.tr("the item no longer exists (deleted meanwhile?)"))
                added = item_id is None
                command = "gui worklist add" if added else "gui worklist edit"
                action = audit.CREATE if added else audit.UPDATE
                audit_store.append(conn, [_audited(command, action, 1, item)])
        except UserError as exc:
            self._messages.failure(what, exc)
            self.reload()
            return
        self.reload()
        key = ("local", item.study_instance_uid, item.scheduled_step_id)
        self._select(self.local_table, lambda i: _identity(i) == key)
        self._messages.info(
            self.tr("Worklist item added") if item_id is None else self.tr("Worklist item saved")
        )

    def _delete_selected(self) -> None:
        ids = [
            item_id
            for r in _rows(self.local_table)
            if (item_id := self.local_model.item(r).id) is not None
        ]
        if not ids:
            return
        try:
            with self._db.transaction() as conn:
                removed = worklist.delete(conn, ids)
                audit_store.append(conn, [_audited("gui worklist delete", audit.DELETE, removed)])
        except UserError as exc:
            self._messages.failure(self.tr("Delete worklist items"), exc)
            return
        self.reload()
        self._messages.info(self.tr("%n worklist item(s) deleted", "", removed))

    def _choose_import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import worklist"),
            "",
            self.tr("Worklist files (*.json *.csv);;All files (*)"),
        )
        if name:
            self.import_file(Path(name))

    # -- selection and Start -------------------------------------------------------

    def _select(self, table: QTableView, wanted: Callable[[WorklistItem], bool]) -> None:
        model = table.model()
        assert isinstance(model, WorklistTableModel)
        selection = QItemSelection()
        for row, item in enumerate(model.items()):
            if wanted(item):
                selection.select(model.index(row, 0), model.index(row, model.columnCount() - 1))
        if selection.isEmpty():
            return
        table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        first = selection.indexes()[0]
        table.selectionModel().setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        table.scrollTo(first)

    def _on_selection(self, table: QTableView) -> None:
        # One selection at a time, so "the selected item" and Start are never ambiguous.
        if table.selectionModel().hasSelection():
            for other, _ in self._tables():
                if other is not table and other.selectionModel().hasSelection():
                    other.clearSelection()
        self._update_actions()

    def _start_items(self) -> list[WorklistItem]:
        """What Start would start: the selection plus its group, or nothing if not startable.

        One procedure step is one patient, and an item already started or finished must
        not be performed twice, so either makes the selection unstartable.
        """
        selected = self.selected_items()
        if not selected or any(i.status != SCHEDULED for i in selected):
            return []
        if len({(i.source, i.patient_id) for i in selected}) != 1:
            return []
        model = next(
            (m for t, m in self._tables() if t.selectionModel().hasSelection()), self.local_model
        )
        return _with_group(selected, model.items())

    def _start(self) -> None:
        items = self._start_items()
        if items:
            self.start_requested.emit(items)

    def _update_actions(self) -> None:
        local = _rows(self.local_table)
        self.edit_button.setEnabled(len(local) == 1)
        self.delete_button.setEnabled(bool(local))
        self.start_button.setEnabled(bool(self._start_items()))
        running = self._query_task is not None
        self.query_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _update_dates(self) -> None:
        ranged = self.date_combo.currentData() == "range"
        self.date_from.setEnabled(ranged)
        self.date_to.setEnabled(ranged)

    # -- remote query ------------------------------------------------------------

    def _query_work(self, node: Node, query: WorklistQuery) -> Callable[[Task], QueryResult]:
        """The worker-thread part: query, then cache what came back (even if stopped)."""
        db, local_ae_title = self._db, self._local_ae_title()

        def work(task: Task) -> QueryResult:
            result = query_worklist(local_ae_title, node, query, cancel=task.cancel)
            with db.transaction() as conn:
                worklist.replace_cached(conn, node.name, result.items)
                record = audit.manual(
                    audit.QUERY,
                    audit.EXECUTE,
                    "gui worklist query",
                    subject=audit.query_subject(query),
                    peer=f"{node.ae_title}@{node.host}:{node.port}",
                    detail=f"{len(result.items)} item(s)",
                )
                audit_store.append(conn, [record])
            return result

        return work

    def _on_task_succeeded(self, task: Task, result: object) -> None:
        if task is not self._query_task or not isinstance(result, QueryResult):
            return
        self._query_task = None
        self.last_result = result
        self.results_model.set_items(result.items)
        count = len(result.items)
        if result.cancelled:
            text = self.tr("%n item(s) — stopped", "", count)
        elif result.truncated:
            text = self.tr("first %n item(s) — limit reached, narrow the query", "", count)
        else:
            text = self.tr("%n item(s)", "", count)
        self.result_count.setText(text)
        self._update_actions()

    def _on_task_failed(self, task: Task, error: BaseException) -> None:
        if task is not self._query_task:
            return
        self._query_task = None
        self.result_count.setText(self.tr("Query failed"))
        self._messages.failure(self.tr("Worklist query"), error)
        self._update_actions()

    def _on_task_cancelled(self, task: Task) -> None:
        if task is not self._query_task:
            return
        self._query_task = None
        self.result_count.setText(self.tr("Query stopped"))
        self._update_actions()


def _audited(
    command: str, action: str, count: int, item: WorklistItem | None = None
) -> audit.AuditRecord:
    """The audit record of a local worklist change (an Order Record, PS3.15 A.5.3.6)."""
    subject = (
        Subject(
            instance_uid=item.study_instance_uid,
            patient_id=item.patient_id,
            patient_name=item.patient_name,
            accession=item.accession_number,
        )
        if item is not None
        else None
    )
    return audit.manual(
        audit.ORDER_RECORD, action, command, subject=subject, detail=f"{count} item(s)"
    )


def _with_group(
    selected: Sequence[WorklistItem], shown: Sequence[WorklistItem]
) -> list[WorklistItem]:
    """``selected`` followed by the other scheduled items of the same accession and source.

    An empty accession groups nothing: remote orders without one are unrelated.
    """
    groups = {(i.source, i.accession_number, i.patient_id) for i in selected if i.accession_number}
    chosen = list(selected)
    seen = {_identity(i) for i in selected}
    for item in shown:
        if (
            item.status == SCHEDULED
            and (item.source, item.accession_number, item.patient_id) in groups
            and _identity(item) not in seen
        ):
            chosen.append(item)
            seen.add(_identity(item))
    return chosen
