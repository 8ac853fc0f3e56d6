"""Table model of every procedure step, fed in batches by the event bridge.

It sorts and filters itself: there is no proxy between it and the view (see
gui/step_filter.py), and it holds each step as the row tuple the store lists
(core.step.ROW_FIELDS), made into a StepSummary only when one is asked for (the
selected step), and into text only for the cells a repaint shows.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import islice
from operator import gt, itemgetter, lt
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
from mppsconsole.core.step import RECEIVED, ROW_FIELDS, SENT, StepRow, StepSummary
from mppsconsole.core.validation import Finding
from mppsconsole.gui.findings_view import (
    SEVERITY_COLOURS,
    badge_tooltip,
    severity_icon,
    severity_rank,
)
from mppsconsole.gui.icons import STATUS_COLOURS, status_icon
from mppsconsole.gui.step_filter import EVERYTHING, StepFilter

AnyIndex = QModelIndex | QPersistentModelIndex
#: Role carrying the whole StepSummary of the row.
STEP_ROLE = Qt.ItemDataRole.UserRole + 1
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ROLES = frozenset((_DISPLAY, _TOOLTIP, _DECORATION, _FOREGROUND, int(STEP_ROLE)))

_at = ROW_FIELDS.index
_UID, _STATUS, _DIRECTION = _at("sop_instance_uid"), _at("status"), _at("direction")
_NAME = _at("patient_name")
_START, _END, _SERIES, _IMAGES = _at("start"), _at("end"), _at("series_count"), _at("image_count")
_FINDINGS, _WORST = _at("finding_count"), _at("worst_finding")
#: A row's identity: the same UID may be both sent and received by this console.
_identity: Callable[[StepRow], tuple[str, str]] = itemgetter(_UID, _DIRECTION)
_fromisoformat = dt.datetime.fromisoformat


def _when(iso: str | None) -> str:
    return _fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S") if iso else ""


def _elapsed(row: StepRow, now: dt.datetime) -> str:
    if row[_END]:
        return _when(row[_END])
    if not row[_START] or row[_STATUS] != IN_PROGRESS:
        return ""
    start = _fromisoformat(row[_START])
    start = start if start.tzinfo else start.astimezone()
    seconds = max(0, int((now - start).total_seconds()))
    return QCoreApplication.translate("StepTableModel", "running {0}").format(
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    )


COLUMNS: tuple[tuple[Any, Any], ...] = (
    (QT_TRANSLATE_NOOP("StepTableModel", "Status"), itemgetter(_STATUS)),
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Patient"),
        lambda r: r[_NAME].replace("^", " ").strip(),
    ),
    (QT_TRANSLATE_NOOP("StepTableModel", "Patient ID"), itemgetter(_at("patient_id"))),
    (QT_TRANSLATE_NOOP("StepTableModel", "Accession"), itemgetter(_at("accession_number"))),
    (QT_TRANSLATE_NOOP("StepTableModel", "Modality"), itemgetter(_at("modality"))),
    (QT_TRANSLATE_NOOP("StepTableModel", "Station AE"), itemgetter(_at("station_ae"))),
    (QT_TRANSLATE_NOOP("StepTableModel", "Description"), itemgetter(_at("description"))),
    (QT_TRANSLATE_NOOP("StepTableModel", "Started"), lambda r: _when(r[_START])),
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Ended / elapsed"),
        None,
    ),  # depends on the clock, see data()
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Series / images"),
        lambda r: f"{r[_SERIES]} / {r[_IMAGES]}",
    ),
    (QT_TRANSLATE_NOOP("StepTableModel", "Direction"), itemgetter(_DIRECTION)),
    (QT_TRANSLATE_NOOP("StepTableModel", "Calling AE"), itemgetter(_at("calling_ae"))),
    # the validation badge (gui/findings_view.py): count, icon and colour of the worst
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Findings"),
        lambda r: str(r[_FINDINGS]) if r[_FINDINGS] else "",
    ),
)
_TEXT = tuple(getter for _, getter in COLUMNS)
ENDED_COLUMN = 8
FINDINGS_COLUMN = 12
_NEVER = float("-inf")  # an absent time sorts before every time


def _timestamp(iso: str | None) -> float:
    return _fromisoformat(iso).timestamp() if iso else _NEVER


# Times sort by timestamp(), not by their text: offsets differ (summer time, other
# machines). Each key ends with the step's identity, so keys are unique.
_SORT_KEYS: dict[int, Any] = {
    7: lambda r: (_timestamp(r[_START]), r[_UID], r[_DIRECTION]),
    ENDED_COLUMN: lambda r: (_timestamp(r[_END]), r[_UID], r[_DIRECTION]),
    9: lambda r: (r[_IMAGES], r[_UID], r[_DIRECTION]),
    FINDINGS_COLUMN: lambda r: (severity_rank(r[_WORST]), r[_FINDINGS], r[_UID], r[_DIRECTION]),
}


def _sort_key(column: int) -> Any:
    """Key for ``column``: typed where it matters, case-folded text otherwise, UID last."""
    special = _SORT_KEYS.get(column)
    if special is not None:
        return special
    getter = COLUMNS[column][1]
    return lambda r: (getter(r).casefold(), r[_UID], r[_DIRECTION])


@cache
def _status_brush(status: str) -> QBrush | None:
    """One brush per status, not one per cell and repaint."""
    colour = STATUS_COLOURS.get(status)
    return QBrush(colour) if colour else None


class StepTableModel(QAbstractTableModel):
    """One row per shown step, kept sorted and filtered here (not in a proxy): 100,000
    rows sort in Python's C-level ``list.sort`` instead of millions of ``data()`` calls
    from a proxy's comparator, and a repaint asks only this model.

    Every step is in ``_known``; the shown ones (those the filter accepts) are held in
    ascending key order beside a parallel list of their sort keys (unique: the step's
    identity ends every key), so finding a step's row or where a new one belongs is a
    C-level ``bisect``; a descending view maps row ``r`` to index ``n - 1 - r``. No row
    index has to be rebuilt when rows are inserted or moved, which kept the event loop
    busy for tens of milliseconds per batch at 1000 updates a second.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[StepRow] = []  # the shown steps, ascending by sort key
        self._keys: list[Any] = []  # sort key of each entry of _rows
        self._known: dict[tuple[str, str], StepRow] = {}  # identity -> current row, all steps
        self._filter = EVERYTHING
        self._now = dt.datetime.now().astimezone()
        self._sort_column = 7  # Started
        self._descending = True
        self._key = _sort_key(self._sort_column)
        #: The findings of one step, for the badge's tooltip (read on hover only).
        self.findings_of: Callable[[str, str], Sequence[Finding]] | None = None
        self._deferred: frozenset[str] = frozenset()  # sent steps with MPPS messages queued

    # -- Qt interface --------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("StepTableModel", COLUMNS[section][0])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every role of every visible cell on each repaint: answer the roles
        # this model does not use first, and compare plain ints (enum comparisons cost).
        if role not in _ROLES or not index.isValid():
            return None
        row = index.row()
        if row >= len(self._rows):
            return None
        step = self._rows[~row if self._descending else row]  # ~row: counted from the end
        column = index.column()
        if role == _DISPLAY:
            if column == ENDED_COLUMN:
                return _elapsed(step, self._now)
            if column == 0 and self._is_deferred(step):
                return QCoreApplication.translate("StepTableModel", "{0} (deferred)").format(
                    step[_STATUS]
                )
            return _TEXT[column](step)
        if role == STEP_ROLE:
            return StepSummary.from_row(step)
        if column == FINDINGS_COLUMN:
            return self._badge(step, role)
        if role == _TOOLTIP:
            return step[_UID]
        if column != 0:
            return None
        if role == _DECORATION:
            return status_icon(step[_STATUS])
        return _status_brush(step[_STATUS])  # the foreground role

    def _badge(self, step: StepRow, role: int) -> Any:
        if not step[_FINDINGS]:
            return None
        if role == _DECORATION:
            return severity_icon(step[_WORST])
        if role == _FOREGROUND:
            return QBrush(SEVERITY_COLOURS[step[_WORST]])
        if role == _TOOLTIP and self.findings_of is not None:
            return badge_tooltip(self.findings_of(step[_UID], step[_DIRECTION]))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        def by_column() -> None:
            self._sort_column = column
            self._descending = order == Qt.SortOrder.DescendingOrder
            self._key = _sort_key(column)

        self._relayout(by_column)

    # -- filter ----------------------------------------------------------------

    @property
    def step_filter(self) -> StepFilter:
        return self._filter

    def set_filter(self, step_filter: StepFilter) -> None:
        """Show only the steps ``step_filter`` accepts (the selection stays if shown)."""
        if step_filter != self._filter:

            def refilter() -> None:
                self._filter = step_filter

            self._relayout(refilter)

    def _shown(self, rows: Iterable[StepRow]) -> Iterable[StepRow]:
        return rows if self._filter == EVERYTHING else filter(self._filter.accepts, rows)

    def _is_shown(self, row: StepRow) -> bool:
        return self._filter == EVERYTHING or self._filter.accepts(row)

    @property
    def step_count(self) -> int:
        """Every step, shown or not."""
        return len(self._known)

    # -- updates -------------------------------------------------------------

    def _flip(self, position: int) -> int:
        """Row of list index ``position`` and list index of row ``position`` (an involution)."""
        return len(self._rows) - 1 - position if self._descending else position

    def _fill(self) -> None:
        """Hold the shown steps, sorted by the current key.

        The store lists the steps in the table's first order (newest first), so a load
        usually only has to reverse them; sorting (key, row) pairs instead took a third
        of the time and, for 100,000 steps, 10 MB more at the peak.
        """
        rows = list(self._shown(self._known.values()))
        keys = list(map(self._key, rows))
        if not all(map(lt, keys, islice(keys, 1, None))):
            if all(map(gt, keys, islice(keys, 1, None))):
                keys.reverse()
                rows.reverse()
            else:
                order = sorted(range(len(rows)), key=keys.__getitem__)
                keys = [keys[i] for i in order]
                rows = [rows[i] for i in order]
        self._keys, self._rows = keys, rows

    def _relayout(self, change: Callable[[], None]) -> None:
        """Apply ``change`` (of the order or the filter) and re-sort; persistent indexes
        (the view's selection) follow their step, or become invalid if it is hidden."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        identities = [_identity(self._row(i.row())) for i in before]
        change()
        self._fill()
        after = []
        for identity, index in zip(identities, before, strict=True):
            row = self._known[identity]
            after.append(
                self.index(self._flip(self._index_of(row)), index.column())
                if self._is_shown(row)
                else QModelIndex()
            )
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _index_of(self, row: StepRow) -> int:
        """List index of ``row`` as currently held (its key is in ``_keys``)."""
        return bisect_left(self._keys, self._key(row))

    def reset(self, steps: Sequence[StepSummary]) -> None:
        """Replace everything with ``steps``."""
        self.load([s.to_row() for s in steps])

    def load(self, rows: Sequence[StepRow]) -> None:
        """Replace everything with ``rows`` (core.step.ROW_FIELDS, as store.steps lists
        them: the initial load, kept as tuples)."""
        self.beginResetModel()
        self._known = dict(zip(map(_identity, rows), rows, strict=True))
        self._fill()
        self.endResetModel()

    def apply(self, changed: Sequence[StepSummary]) -> None:
        """Update known steps (moving rows whose sort key changed, showing and hiding them
        as the filter says), insert new ones in order.

        Moves go through beginMoveRows so persistent indexes, hence the view's
        selection, follow the step. New steps that land next to each other (typically
        the newest, at the top) are inserted as one block: the view pays per
        insertion, not per row.
        """
        latest = {(s.sop_instance_uid, s.direction): s.to_row() for s in changed}
        accepts = None if self._filter == EVERYTHING else self._filter.accepts
        touched: list[StepRow] = []
        new: list[StepRow] = []
        keys, rows, key = self._keys, self._rows, self._key
        for identity, step in latest.items():
            old = self._known.get(identity)
            self._known[identity] = step
            shown = accepts is None or accepts(step)
            if old is None or (accepts is not None and not accepts(old)):
                if shown:
                    new.append(step)
                continue
            current = self._index_of(old)
            if not shown:
                row = self._flip(current)
                self.beginRemoveRows(QModelIndex(), row, row)
                del keys[current], rows[current]
                self.endRemoveRows()
                continue
            wanted = key(step)
            target = bisect_left(keys, wanted)  # counted with the old entry still in place
            if target in (current, current + 1):  # order unchanged: update in place
                keys[current] = wanted
                rows[current] = step
                touched.append(step)
                continue
            final = target - 1 if target > current else target
            row, final_row = self._flip(current), self._flip(final)
            destination = final_row + 1 if final_row > row else final_row
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
            del keys[current], rows[current]
            keys.insert(final, wanted)
            rows.insert(final, step)
            self.endMoveRows()
        if touched:
            changed_rows = [self._flip(self._index_of(r)) for r in touched]
            self.dataChanged.emit(
                self.index(min(changed_rows), 0), self.index(max(changed_rows), len(COLUMNS) - 1)
            )
        if new:
            self._insert(sorted(zip(map(key, new), new, strict=True), key=itemgetter(0)))

    def _insert(self, pairs: list[tuple[Any, StepRow]]) -> None:
        """Insert ``pairs`` (key, row; ascending), one block per run sharing a position."""
        keys, rows = self._keys, self._rows
        blocks: list[tuple[int, list[tuple[Any, StepRow]]]] = []
        for pair in pairs:
            position = bisect_left(keys, pair[0])
            if blocks and blocks[-1][0] == position:
                blocks[-1][1].append(pair)
            else:
                blocks.append((position, [pair]))
        for position, block in reversed(blocks):  # back to front: earlier positions hold
            count = len(block)
            row = len(rows) - position if self._descending else position
            self.beginInsertRows(QModelIndex(), row, row + count - 1)
            keys[position:position] = [k for k, _ in block]
            rows[position:position] = [r for _, r in block]
            self.endInsertRows()

    def tick(self, now: dt.datetime | None = None) -> None:
        """Move the clock the elapsed column is computed from (called once a second).

        No dataChanged: one over every running row would make the view re-ask them
        all; the view repaints the column instead (StepsPanel.tick), which asks only
        the visible cells again.
        """
        self._now = now or dt.datetime.now().astimezone()

    def _row(self, row: int) -> StepRow:
        return self._rows[self._flip(row)]

    def step(self, row: int) -> StepSummary:
        """The step shown in ``row``."""
        return StepSummary.from_row(self._row(row))

    # -- deferred MPPS ---------------------------------------------------------

    def _is_deferred(self, step: StepRow) -> bool:
        return step[_DIRECTION] == SENT and step[_UID] in self._deferred

    def set_deferred(self, uids: frozenset[str]) -> None:
        """Mark the sent steps whose N-CREATE / N-SET wait in the outbox."""
        changed = self._deferred ^ uids
        self._deferred = uids
        touched = [row for uid in changed if (row := self.row_of(uid, SENT)) is not None]
        if touched:
            self.dataChanged.emit(self.index(min(touched), 0), self.index(max(touched), 0))

    def row_of(self, uid: str, direction: str | None = None) -> int | None:
        """Row of step ``uid`` if shown (as received, else as sent, unless ``direction``
        says)."""
        for way in (direction,) if direction else (RECEIVED, SENT):
            step = self._known.get((uid, way))
            if step is not None and self._is_shown(step):
                return self._flip(self._index_of(step))
        return None

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder
