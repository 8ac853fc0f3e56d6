"""Filtering of the step table: text, status, direction and start date.

The step table model applies the filter itself (StepTableModel.set_filter) rather
than through a QSortFilterProxyModel: a proxy between the view and the model made
every cell of every repaint cost extra Python calls (each mapToSource asks the
model's rowCount and columnCount), and a load asked it about every row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from mppsconsole.core.step import ROW_FIELDS, StepRow

_STATUS = ROW_FIELDS.index("status")
_DIRECTION = ROW_FIELDS.index("direction")
_START = ROW_FIELDS.index("start")
#: The fields the filter text is looked for in.
_SEARCHED = tuple(
    ROW_FIELDS.index(name)
    for name in (
        "patient_name",
        "patient_id",
        "accession_number",
        "station_ae",
        "description",
        "calling_ae",
        "modality",
        "sop_instance_uid",
    )
)


@dataclasses.dataclass(frozen=True)
class StepFilter:
    """Which steps the table shows; every condition set must hold."""

    text: str = ""  # every word in one of the _SEARCHED fields, case-insensitive
    status: str = ""  # "" for all
    direction: str = ""  # "" for all
    start_from: dt.date | None = None
    start_to: dt.date | None = None

    def accepts(self, row: StepRow) -> bool:
        """Whether the step of ``row`` (core.step.ROW_FIELDS) is shown."""
        if self.status and row[_STATUS] != self.status:
            return False
        if self.direction and row[_DIRECTION] != self.direction:
            return False
        if self.start_from or self.start_to:
            start = row[_START]
            if not start:
                return False
            day = dt.datetime.fromisoformat(start).date()
            if self.start_from and day < self.start_from:
                return False
            if self.start_to and day > self.start_to:
                return False
        if self.text:
            haystack = " ".join([row[i] for i in _SEARCHED]).casefold()
            return all(word in haystack for word in self.text.casefold().split())
        return True


#: The filter that shows every step.
EVERYTHING = StepFilter()
