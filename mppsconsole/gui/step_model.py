"""Table model of every procedure step, fed in batches by the event bridge."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Callable, Sequence
from operator import itemgetter
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
from mppsconsole.core.validation import Finding
from mppsconsole.gui.findings_view import (
    SEVERITY_COLOURS,
    badge_tooltip,
    severity_icon,
    severity_rank,
)
from mppsconsole.gui.icons import STATUS_COLOURS, status_icon

AnyIndex = QModelIndex | QPersistentModelIndex
#: Role carrying the whole StepSummary of the row.
STEP_ROLE = Qt.ItemDataRole.UserRole + 1
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ROLES = frozenset(
    (_DISPLAY, _TOOLTIP, _DECORATION, int(Qt.ItemDataRole.ForegroundRole), int(STEP_ROLE))
)


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
    # the validation badge (gui/findings_view.py): count, icon and colour of the worst
    (
        QT_TRANSLATE_NOOP("StepTableModel", "Findings"),
        lambda s: str(s.finding_count) if s.finding_count else "",
    ),
)
ENDED_COLUMN = 8
FINDINGS_COLUMN = 12
_NEVER = float("-inf")  # an absent time sorts before every time
# Times sort by timestamp(): isoformat() of an aware datetime cost 4 µs, most of
# sorting 100,000 steps. Each key ends with the step's identity, so keys are unique.
_SORT_KEYS: dict[int, Any] = {
    7: lambda s: (s.start.timestamp() if s.start else _NEVER, s.sop_instance_uid, s.direction),
    ENDED_COLUMN: lambda s: (
        s.end.timestamp() if s.end else _NEVER,
        s.sop_instance_uid,
        s.direction,
    ),
    9: lambda s: (s.image_count, s.sop_instance_uid, s.direction),
    FINDINGS_COLUMN: lambda s: (
        severity_rank(s.worst_finding),
        s.finding_count,
        s.sop_instance_uid,
        s.direction,
    ),
}


def _key(step: StepSummary) -> tuple[str, str]:
    """A row's identity: the same UID may be both sent and received by this console."""
    return step.sop_instance_uid, step.direction


def _sort_key(column: int) -> Any:
    """Key for ``column``: typed where it matters, case-folded text otherwise, UID last."""
    special = _SORT_KEYS.get(column)
    if special is not None:
        return special
    getter = COLUMNS[column][1]
    return lambda s: (getter(s).casefold(), s.sop_instance_uid, s.direction)


class StepTableModel(QAbstractTableModel):
    """One row per step, kept sorted here (not in a proxy) so 100,000 rows sort in Python's
    C-level ``list.sort`` instead of millions of ``data()`` calls from a proxy's comparator.

    The steps are held in ascending key order beside a parallel list of their sort keys
    (unique: the step's identity ends every key), so finding a step's row or where a new
    one belongs is a C-level ``bisect``; a descending view maps row ``r`` to index
    ``n - 1 - r``. No row index has to be rebuilt when rows are inserted or moved, which
    kept the event loop busy for tens of milliseconds per batch at 1000 updates a second.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[StepSummary] = []  # ascending by sort key
        self._keys: list[Any] = []  # sort key of each entry of _steps
        self._known: dict[tuple[str, str], StepSummary] = {}  # identity -> current state
        self._now = dt.datetime.now().astimezone()
        self._sort_column = 7  # Started
        self._descending = True
        self._key = _sort_key(self._sort_column)
        #: The findings of one step, for the badge's tooltip (read on hover only).
        self.findings_of: Callable[[str, str], Sequence[Finding]] | None = None
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
        # Called for every role of every visible cell on each repaint: answer the roles
        # this model does not use first, and compare plain ints (enum comparisons cost).
        if role not in _ROLES or not index.isValid():
            return None
        row = index.row()
        if row >= len(self._steps):
            return None
        step = self._steps[len(self._steps) - 1 - row if self._descending else row]
        column = index.column()
        if role == _DISPLAY:
            if column == ENDED_COLUMN:
                return _elapsed(step, self._now)
            if column == 0 and self._is_deferred(step):
                return QCoreApplication.translate("StepTableModel", "{0} (deferred)").format(
                    step.status
                )
            return COLUMNS[column][1](step)
        if role == STEP_ROLE:
            return step
        if column == FINDINGS_COLUMN:
            return self._badge(step, role)
        if role == _TOOLTIP:
            return step.sop_instance_uid
        if column != 0:
            return None
        if role == _DECORATION:
            return status_icon(step.status)
        colour = STATUS_COLOURS.get(step.status)  # the foreground role
        return QBrush(colour) if colour else None

    def _badge(self, step: StepSummary, role: int) -> Any:
        if not step.finding_count:
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return severity_icon(step.worst_finding)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(SEVERITY_COLOURS[step.worst_finding])
        if role == Qt.ItemDataRole.ToolTipRole and self.findings_of is not None:
            return badge_tooltip(self.findings_of(step.sop_instance_uid, step.direction))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        identities = [_key(self.step(i.row())) for i in before]
        self._sort_column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._key = _sort_key(column)
        self._fill(self._steps)
        positions = {_key(s): i for i, s in enumerate(self._steps)} if before else {}
        self.changePersistentIndexList(
            before,
            [
                self.index(self._flip(positions[k]), i.column())
                for k, i in zip(identities, before, strict=True)
            ],
        )
        self.layoutChanged.emit()

    # -- updates -------------------------------------------------------------

    def _flip(self, position: int) -> int:
        """Row of list index ``position`` and list index of row ``position`` (an involution)."""
        return len(self._steps) - 1 - position if self._descending else position

    def _fill(self, steps: Sequence[StepSummary]) -> None:
        key = self._key
        pairs = sorted(((key(s), s) for s in steps), key=itemgetter(0))
        self._keys = [k for k, _ in pairs]
        self._steps = [s for _, s in pairs]
        self._known = {_key(s): s for s in self._steps}

    def _index_of(self, step: StepSummary) -> int:
        """List index of ``step`` as currently held (its key is in ``_keys``)."""
        return bisect_left(self._keys, self._key(step))

    def reset(self, steps: Sequence[StepSummary]) -> None:
        """Replace everything (initial load from the store)."""
        self.beginResetModel()
        self._fill(steps)
        self.endResetModel()

    def apply(self, changed: Sequence[StepSummary]) -> None:
        """Update known steps (moving rows whose sort key changed), insert new ones in order.

        Moves go through beginMoveRows so persistent indexes, hence the view's
        selection, follow the step. New steps that land next to each other (typically
        the newest, at the top) are inserted as one block: the proxy and the view pay
        per insertion, not per row.
        """
        touched: list[StepSummary] = []
        new: dict[tuple[str, str], StepSummary] = {}
        keys, steps, key = self._keys, self._steps, self._key
        for step in changed:
            identity = _key(step)
            old = self._known.get(identity)
            if old is None:
                new[identity] = step
                continue
            self._known[identity] = step
            wanted = key(step)
            current = self._index_of(old)
            target = bisect_left(keys, wanted)  # counted with the old entry still in place
            if target in (current, current + 1):  # order unchanged: update in place
                keys[current] = wanted
                steps[current] = step
                touched.append(step)
                continue
            final = target - 1 if target > current else target
            row, final_row = self._flip(current), self._flip(final)
            destination = final_row + 1 if final_row > row else final_row
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
            del keys[current], steps[current]
            keys.insert(final, wanted)
            steps.insert(final, step)
            self.endMoveRows()
        if touched:
            rows = [self._flip(self._index_of(s)) for s in touched]
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))
        if new:
            self._insert(sorted(((key(s), s) for s in new.values()), key=itemgetter(0)))

    def _insert(self, pairs: list[tuple[Any, StepSummary]]) -> None:
        """Insert ``pairs`` (key, step; ascending), one block per run sharing a position."""
        keys, steps = self._keys, self._steps
        blocks: list[tuple[int, list[tuple[Any, StepSummary]]]] = []
        for pair in pairs:
            position = bisect_left(keys, pair[0])
            if blocks and blocks[-1][0] == position:
                blocks[-1][1].append(pair)
            else:
                blocks.append((position, [pair]))
        for position, block in reversed(blocks):  # back to front: earlier positions hold
            count = len(block)
            row = len(steps) - position if self._descending else position
            self.beginInsertRows(QModelIndex(), row, row + count - 1)
            keys[position:position] = [k for k, _ in block]
            steps[position:position] = [s for _, s in block]
            self._known.update((_key(s), s) for _, s in block)
            self.endInsertRows()

    def tick(self, now: dt.datetime | None = None) -> None:
        """Move the clock the elapsed column is computed from (called once a second).

        No dataChanged: one over every running row made the filter proxy re-test them
        all, 30 ms a second with 10,000 running steps; the view repaints the column
        instead (StepsPanel.tick), which asks only the visible cells again.
        """
        self._now = now or dt.datetime.now().astimezone()

    def step(self, row: int) -> StepSummary:
        return self._steps[self._flip(row)]

    # -- deferred MPPS ---------------------------------------------------------

    def _is_deferred(self, step: StepSummary) -> bool:
        return step.direction == SENT and step.sop_instance_uid in self._deferred

    def set_deferred(self, uids: frozenset[str]) -> None:
        """Mark the sent steps whose N-CREATE / N-SET wait in the outbox."""
        changed = self._deferred ^ uids
        self._deferred = uids
        touched = [row for uid in changed if (row := self.row_of(uid, SENT)) is not None]
        if touched:
            self.dataChanged.emit(self.index(min(touched), 0), self.index(max(touched), 0))

    def row_of(self, uid: str, direction: str | None = None) -> int | None:
        """Row of step ``uid`` (as received, else as sent, unless ``direction`` says)."""
        for way in (direction,) if direction else (RECEIVED, SENT):
            step = self._known.get((uid, way))
            if step is not None:
                return self._flip(self._index_of(step))
        return None

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder
