"""Filtering of the step table: text, status, direction and start date.

Sorting stays in the source model (see StepTableModel); this proxy only hides
rows, and forwards header clicks to the model's own sort.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from mppsconsole.gui.step_model import StepTableModel


@dataclasses.dataclass(frozen=True)
class StepFilter:
    text: str = ""
    status: str = ""  # "" for all
    direction: str = ""  # "" for all
    start_from: dt.date | None = None
    start_to: dt.date | None = None

    def accepts(self, step: Any) -> bool:
        if self.status and step.status != self.status:
            return False
        if self.direction and step.direction != self.direction:
            return False
        if self.start_from or self.start_to:
            if step.start is None:
                return False
            day = step.start.date()
            if self.start_from and day < self.start_from:
                return False
            if self.start_to and day > self.start_to:
                return False
        if self.text:
            needle = self.text.casefold()
            haystack = " ".join(
                (
                    step.patient_name,
                    step.patient_id,
                    step.accession_number,
                    step.station_ae,
                    step.description,
                    step.calling_ae,
                    step.modality,
                    step.sop_instance_uid,
                )
            ).casefold()
            return all(word in haystack for word in needle.split())
        return True


_EVERYTHING = StepFilter()


class StepFilterProxy(QSortFilterProxyModel):
    def __init__(self, source: StepTableModel, parent: Any = None) -> None:
        super().__init__(parent)
        self._filter = StepFilter()
        self.setSourceModel(source)

    @property
    def step_filter(self) -> StepFilter:
        return self._filter

    def set_filter(self, step_filter: StepFilter) -> None:
        if step_filter != self._filter:
            self.beginFilterChange()
            self._filter = step_filter
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if self._filter == _EVERYTHING:  # the usual case: a model reset asks for every row
            return True
        model = self.sourceModel()
        assert isinstance(model, StepTableModel)
        return self._filter.accepts(model.step(source_row))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        assert isinstance(model, StepTableModel)
        model.sort(column, order)
