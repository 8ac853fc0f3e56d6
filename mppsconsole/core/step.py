"""The summary of a procedure step that lists, tables and JSON output show."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from typing import Any

from mppsconsole.core.attributes import Attributes, items, text
from mppsconsole.core.dicomtime import to_datetime

RECEIVED = "received"
SENT = "sent"

#: The fields of a step row: how the store lists steps and the step table holds them.
#: A plain tuple of the stored column values (times as ISO 8601 text) costs nothing to
#: build beyond what SQLite hands over; making 100,000 StepSummary objects took longer
#: than reading the rows, so a row becomes a StepSummary only where one is needed.
ROW_FIELDS = (
    "sop_instance_uid",
    "status",
    "direction",
    "patient_name",
    "patient_id",
    "accession_number",
    "modality",
    "station_ae",
    "description",
    "study_instance_uid",
    "start",
    "end",
    "series_count",
    "image_count",
    "calling_ae",
    "finding_count",
    "worst_finding",
    "updated_at",
)
#: A step row: the values of ROW_FIELDS, in that order.
StepRow = tuple[Any, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class StepSummary:
    """The columns of a step, derived from its current attributes (slots: the window
    holds one per step, 100,000 and more)."""

    sop_instance_uid: str
    status: str
    direction: str
    patient_name: str = ""
    patient_id: str = ""
    accession_number: str = ""
    modality: str = ""
    station_ae: str = ""
    description: str = ""
    study_instance_uid: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    series_count: int = 0
    image_count: int = 0
    calling_ae: str = ""
    updated_at: dt.datetime | None = None
    #: Validation findings (core/validation.py): how many, and the worst severity.
    finding_count: int = 0
    worst_finding: str = ""

    @classmethod
    def from_row(cls, row: StepRow) -> StepSummary:
        """The summary of a step row (ROW_FIELDS)."""
        (uid, status, direction, name, patient_id, accession, modality, station, description,
         study, start, end, series, images, calling_ae, findings, worst, updated) = row  # fmt: skip
        return cls(
            uid,
            status,
            direction,
            name,
            patient_id,
            accession,
            modality,
            station,
            description,
            study,
            _datetime(start),
            _datetime(end),
            series,
            images,
            calling_ae,
            _datetime(updated),
            findings,
            worst,
        )

    def to_row(self) -> StepRow:
        """The step row of this summary, as the store would list it."""
        return (
            self.sop_instance_uid,
            self.status,
            self.direction,
            self.patient_name,
            self.patient_id,
            self.accession_number,
            self.modality,
            self.station_ae,
            self.description,
            self.study_instance_uid,
            _iso(self.start),
            _iso(self.end),
            self.series_count,
            self.image_count,
            self.calling_ae,
            self.finding_count,
            self.worst_finding,
            _iso(self.updated_at),
        )

    def to_json(self) -> dict[str, Any]:
        """The step object of the command-line contract (DESIGN.md §4)."""
        data = dataclasses.asdict(self)
        for key in ("start", "end", "updated_at"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


def share_texts(row: StepRow) -> StepRow:
    """``row`` with its few-valued texts interned: rows kept for 100,000 steps then share
    their status, modality, station... strings instead of holding a copy each (a third
    of their memory), and the copies SQLite made are freed at once.
    """
    (uid, status, direction, name, patient_id, accession, modality, station, description,
     study, start, end, series, images, calling_ae, findings, worst, updated) = row  # fmt: skip
    return (
        uid,
        _intern(status),
        _intern(direction),
        name,
        patient_id,
        accession,
        _intern(modality),
        _intern(station),
        _intern(description),
        study,
        start,
        end,
        series,
        images,
        _intern(calling_ae),
        findings,
        _intern(worst),
        updated,
    )


_intern = sys.intern
_fromisoformat = dt.datetime.fromisoformat


def _datetime(value: str | None) -> dt.datetime | None:
    return _fromisoformat(value) if value else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def summarize(uid: str, attrs: Attributes, *, direction: str, calling_ae: str) -> StepSummary:
    """Derive the summary columns from a step's attributes."""
    scheduled = items(attrs, "ScheduledStepAttributesSequence")
    first = scheduled[0] if scheduled else None
    series = items(attrs, "PerformedSeriesSequence")
    images = sum(
        len(items(s, "ReferencedImageSequence"))
        + len(items(s, "ReferencedNonImageCompositeSOPInstanceSequence"))
        for s in series
    )
    return StepSummary(
        sop_instance_uid=uid,
        status=text(attrs, "PerformedProcedureStepStatus"),
        direction=direction,
        patient_name=text(attrs, "PatientName"),
        patient_id=text(attrs, "PatientID"),
        accession_number=text(first, "AccessionNumber") if first is not None else "",
        modality=text(attrs, "Modality"),
        station_ae=text(attrs, "PerformedStationAETitle"),
        description=text(attrs, "PerformedProcedureStepDescription"),
        study_instance_uid=text(first, "StudyInstanceUID") if first is not None else "",
        start=to_datetime(
            text(attrs, "PerformedProcedureStepStartDate"),
            text(attrs, "PerformedProcedureStepStartTime"),
        ),
        end=to_datetime(
            text(attrs, "PerformedProcedureStepEndDate"),
            text(attrs, "PerformedProcedureStepEndTime"),
        ),
        series_count=len(series),
        image_count=images,
        calling_ae=calling_ae,
    )


def scheduled_references(attrs: Attributes) -> list[tuple[str, str, str]]:
    """(Study Instance UID, Scheduled Procedure Step ID, Accession) of each referenced order."""
    return [
        (
            text(item, "StudyInstanceUID"),
            text(item, "ScheduledProcedureStepID"),
            text(item, "AccessionNumber"),
        )
        for item in items(attrs, "ScheduledStepAttributesSequence")
    ]


def referenced_instances(attrs: Attributes) -> list[tuple[str, str]]:
    """(Series Instance UID, SOP Instance UID) of every instance the step lists."""
    refs: list[tuple[str, str]] = []
    for series in items(attrs, "PerformedSeriesSequence"):
        series_uid = text(series, "SeriesInstanceUID")
        for key in (
            "ReferencedImageSequence",
            "ReferencedNonImageCompositeSOPInstanceSequence",
        ):
            refs.extend(
                (series_uid, text(ref, "ReferencedSOPInstanceUID")) for ref in items(series, key)
            )
    return refs
