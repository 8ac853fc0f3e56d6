"""Table model of every procedure step, fed in batches by the event bridge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush

from mppsconsole.core.mpps import IN_PROGRESS
from mppsconsole.core.step import RECEIVED, SENT, StepSummary
from mppsconsole.gui.icons import STATUS_COLOURS, status_icon

AnyIndex = QModelIndex | QPersistentModelIndex
#: Role carrying the whole StepSummary of the row.
STEP_ROLE = Qt.ItemDataRole.UserRole + 1


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _elapsed(step: StepSummary, now: dt.datetime) -> str:
    if step.end is not None:
        return _when(step.end)
    if step.start is None or step.status != IN_PROGRESS:
        return ""
    start = step.start if step.start.tzinfo else step.start.astimezone()
    seconds = max(0, int((now - start).total_seconds()))
    return QCoreApplication.translate("StepTableModel", "running {0}").format(
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    )


COLUMNS: tuple[tuple[Any, Any], ...] = (
    (QT_TRANSLATE_NOOP("StepTableModel", "Status"), lambda s: s.status),
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Patient"),
        lambda s: s.patient_name.replace("^", " ").strip(),
    ),
    (QT_TRANSLATE_NOOP("StepTableModel", "Patient ID"), lambda s: s.patient_id),
    (QT_TRANSLATE_NOOP("StepTableModel", "Accession"), lambda s: s.accession_number),
    (QT_TRANSLATE_NOOP("StepTableModel", "Modality"), lambda s: s.modality),
    (QT_TRANSLATE_NOOP("StepTableModel", "Station AE"), lambda s: s.station_ae),
    (QT_TRANSLATE_NOOP("StepTableModel", "Description"), lambda s: s.description),
    (QT_TRANSLATE_NOOP("StepTableModel", "Started"), lambda s: _when(s.start)),
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Ended / elapsed"),
        None,
    ),  # depends on the clock, see data()
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Series / images"),
        lambda s: f"{s.series_count} / {s.image_count}",
    ),
    (QT_TRANSLATE_NOOP("StepTableModel", "Direction"), lambda s: s.direction),
    (QT_TRANSLATE_NOOP("StepTableModel", "Calling AE"), lambda s: s.calling_ae),
)
ENDED_COLUMN = 8
_SORT_KEYS: dict[int, Any] = {
    7: lambda s: s.start.isoformat() if s.start else "",
    8: lambda s: s.end.isoformat() if s.end else "",
    9: lambda s: s.image_count,
}


def _key(step: StepSummary) -> tuple[str, str]:
    """A row's identity: the same UID may be both sent and received by this console."""
    return step.sop_instance_uid, step.direction


def _sort_key(column: int) -> Any:
    """Key for ``column``: typed where it matters, case-folded text otherwise, UID last."""
    special = _SORT_KEYS.get(column)
    if special is not None:
        return lambda s: (special(s), *_key(s))
    if column == ENDED_COLUMN:
        return lambda s: (s.end.isoformat() if s.end else "", *_key(s))
    getter = COLUMNS[column][1]
    return lambda s: (getter(s).casefold(), *_key(s))


class StepTableModel(QAbstractTableModel):
    """One row per step, kept sorted here (not in a proxy) so 100,000 rows sort in Python's
    C-level ``list.sort`` instead of millions of ``data()`` calls from a proxy's comparator.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[StepSummary] = []
        self._row_of: dict[tuple[str, str], int] = {}
        self._row_of_stale = False  # rebuilt lazily: inserts shift every later row
        self._now = dt.datetime.now().astimezone()
        self._sort_column = 7  # Started
        self._descending = True
        self._deferred: frozenset[str] = frozenset()  # sent steps with MPPS messages queued

    # -- Qt interface --------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._steps)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("StepTableModel", COLUMNS[section][0])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._steps):
            return None
        step = self._steps[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ENDED_COLUMN:
                return _elapsed(step, self._now)
            if column == 0 and self._is_deferred(step):
                return QCoreApplication.translate("StepTableModel", "{0} (deferred)").format(
                    step.status
                )
            return COLUMNS[column][1](step)
        if role == STEP_ROLE:
            return step
        if column == 0 and role == Qt.ItemDataRole.DecorationRole:
            return status_icon(step.status)
        if column == 0 and role == Qt.ItemDataRole.ForegroundRole:
            colour = STATUS_COLOURS.get(step.status)
            return QBrush(colour) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return step.sop_instance_uid
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        uids = [_key(self._steps[i.row()]) for i in before]
        self._steps.sort(key=_sort_key(column), reverse=self._descending)
        self._reindex()
        rows = self._row_of
        self.changePersistentIndexList(
            before, [self.index(rows[u], i.column()) for u, i in zip(uids, before, strict=True)]
        )
        self.layoutChanged.emit()

    # -- updates -------------------------------------------------------------

    def _reindex(self) -> None:
        self._row_of = {_key(s): i for i, s in enumerate(self._steps)}
        self._row_of_stale = False

    def _rows(self) -> dict[tuple[str, str], int]:
        if self._row_of_stale:
            self._reindex()
        return self._row_of

    def _position(self, step: StepSummary) -> int:
        """Where ``step`` belongs in the current order (binary search)."""
        key = _sort_key(self._sort_column)
        wanted = key(step)
        low, high = 0, len(self._steps)
        while low < high:
            middle = (low + high) // 2
            here = key(self._steps[middle])
            before = here > wanted if self._descending else here < wanted
            if before:
                low = middle + 1
            else:
                high = middle
        return low

    def reset(self, steps: Sequence[StepSummary]) -> None:
        """Replace everything (initial load from the store)."""
        self.beginResetModel()
        self._steps = sorted(steps, key=_sort_key(self._sort_column), reverse=self._descending)
        self._reindex()
        self.endResetModel()

    def apply(self, changed: Sequence[StepSummary]) -> None:
        """Update known steps (moving rows whose sort key changed), insert new ones in order.

        Moves go through beginMoveRows so persistent indexes, hence the view's
        selection, follow the step.
        """
        key = _sort_key(self._sort_column)
        touched: list[tuple[str, str]] = []
        for step in changed:
            if _key(step) not in self._row_of:
                position = self._position(step)
                self.beginInsertRows(QModelIndex(), position, position)
                self._steps.insert(position, step)
                self._row_of[_key(step)] = position  # membership; rows fixed lazily
                self._row_of_stale = True
                self.endInsertRows()
                continue
            row = self._rows()[_key(step)]
            target = self._position(step)  # counted with the old row still in place
            if row < target:
                target -= 1
            destination = target if target <= row else target + 1
            if key(self._steps[row]) == key(step) or destination in (row, row + 1):
                self._steps[row] = step
                touched.append(_key(step))
                continue
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
            del self._steps[row]
            self._steps.insert(target, step)
            self._row_of_stale = True
            self.endMoveRows()
        if touched:
            rows = [self._rows()[k] for k in touched]
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    def tick(self, now: dt.datetime | None = None) -> None:
        """Refresh the elapsed time of running steps (called once a second)."""
        self._now = now or dt.datetime.now().astimezone()
        running = [
            i for i, s in enumerate(self._steps) if s.status == IN_PROGRESS and s.end is None
        ]
        if running:
            self.dataChanged.emit(
                self.index(min(running), ENDED_COLUMN),
                self.index(max(running), ENDED_COLUMN),
                [Qt.ItemDataRole.DisplayRole],
            )

    def step(self, row: int) -> StepSummary:
        return self._steps[row]

    # -- deferred MPPS ---------------------------------------------------------

    def _is_deferred(self, step: StepSummary) -> bool:
        return step.direction == SENT and step.sop_instance_uid in self._deferred

    def set_deferred(self, uids: frozenset[str]) -> None:
        """Mark the sent steps whose N-CREATE / N-SET wait in the outbox."""
        changed = self._deferred ^ uids
        self._deferred = uids
        rows = self._rows()
        touched = [rows[(uid, SENT)] for uid in changed if (uid, SENT) in rows]
        if touched:
            self.dataChanged.emit(self.index(min(touched), 0), self.index(max(touched), 0))

    def row_of(self, uid: str, direction: str | None = None) -> int | None:
        """Row of step ``uid`` (as received, else as sent, unless ``direction`` says)."""
        rows = self._rows()
        for way in (direction,) if direction else (RECEIVED, SENT):
            if (uid, way) in rows:
                return rows[(uid, way)]
        return None

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder
