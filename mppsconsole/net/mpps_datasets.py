"""The datasets a modality sends for MPPS (PS3.4 Table F.7.2-1, IHE RAD-6/RAD-7).

Scheduled case: every Scheduled Step Attributes Sequence item is copied from a
worklist item unchanged (IHE RAD TF-2 Appendix A); several items make the IHE
group case. Unscheduled case: a new Study Instance UID and empty scheduled keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from mppsconsole.core.codes import Code
from mppsconsole.core.dicomtime import format_da, format_tm
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.net.datasets import UTF8, code_item, sop_references

#: Referenced Study Sequence items point at the (retired) Detached Study Management class.
DETACHED_STUDY_MANAGEMENT = "1.2.840.10008.3.1.2.3.1"


@dataclasses.dataclass(frozen=True)
class Performer:
    """The modality performing the step: what goes into the Performed Station attributes."""

    ae_title: str
    station_name: str = ""
    location: str = ""
    operator: str = ""


@dataclasses.dataclass(frozen=True)
class PerformedSeries:
    """One series of a completed step, with exactly the instances that were stored."""

    series_instance_uid: str
    protocol_name: str
    description: str
    operator: str
    retrieve_ae: str
    images: tuple[tuple[str, str], ...]  # (SOP Class UID, SOP Instance UID)


def _scheduled_item(item: WorklistItem) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = item.study_instance_uid
    ref = Dataset()
    ref.ReferencedSOPClassUID = DETACHED_STUDY_MANAGEMENT
    ref.ReferencedSOPInstanceUID = item.study_instance_uid
    ds.ReferencedStudySequence = DicomSequence([ref])
    ds.AccessionNumber = item.accession_number
    ds.RequestedProcedureID = item.requested_procedure_id
    ds.RequestedProcedureDescription = item.description
    ds.ScheduledProcedureStepID = item.scheduled_step_id
    ds.ScheduledProcedureStepDescription = item.step_description or item.description
    ds.ScheduledProtocolCodeSequence = DicomSequence([code_item(item.protocol)])
    return ds


def _unscheduled_item(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = study_uid
    ds.ReferencedStudySequence = DicomSequence()
    ds.AccessionNumber = ""
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.ScheduledProcedureStepID = ""
    ds.ScheduledProcedureStepDescription = ""
    ds.ScheduledProtocolCodeSequence = DicomSequence()
    return ds


def _n_create(
    scheduled: list[Dataset],
    patient: dict[str, str],
    modality: str,
    performer: Performer,
    *,
    pps_id: str,
    study_id: str,
    description: str,
    protocols: list[Code],
    start: dt.datetime,
) -> Dataset:
    ds = Dataset()
    if any(not v.isascii() for v in (*patient.values(), description, performer.station_name)):
        ds.SpecificCharacterSet = UTF8
    ds.ScheduledStepAttributesSequence = DicomSequence(scheduled)
    ds.PatientName = patient["name"]
    ds.PatientID = patient["id"]
    ds.PatientBirthDate = patient["birth_date"]
    ds.PatientSex = patient["sex"]
    ds.ReferencedPatientSequence = DicomSequence()
    ds.PerformedProcedureStepID = pps_id
    ds.PerformedStationAETitle = performer.ae_title
    ds.PerformedStationName = performer.station_name
    ds.PerformedLocation = performer.location
    ds.PerformedProcedureStepStartDate = format_da(start.date())
    ds.PerformedProcedureStepStartTime = format_tm(start)
    ds.PerformedProcedureStepStatus = IN_PROGRESS
    ds.PerformedProcedureStepDescription = description[:64]
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = DicomSequence()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = modality
    ds.StudyID = study_id[:16]
    ds.PerformedProtocolCodeSequence = DicomSequence([code_item(c) for c in protocols])
    ds.PerformedSeriesSequence = DicomSequence()
    return ds


def n_create_scheduled(
    items: Sequence[WorklistItem], performer: Performer, *, pps_id: str, start: dt.datetime
) -> Dataset:
    """N-CREATE for one or more worklist items of the same patient (IHE group case)."""
    first = items[0]
    return _n_create(
        [_scheduled_item(item) for item in items],
        {
            "name": first.patient_name,
            "id": first.patient_id,
            "birth_date": first.birth_date,
            "sex": first.sex,
        },
        first.modality,
        performer,
        pps_id=pps_id,
        study_id=first.requested_procedure_id,
        description=first.description,
        protocols=[item.protocol for item in items],
        start=start,
    )


def n_create_unscheduled(
    patient: dict[str, str],
    modality: str,
    performer: Performer,
    *,
    study_uid: str,
    pps_id: str,
    start: dt.datetime,
) -> Dataset:
    """N-CREATE for a patient without an order (RAD-6 unscheduled case)."""
    return _n_create(
        [_unscheduled_item(study_uid)],
        patient,
        modality,
        performer,
        pps_id=pps_id,
        study_id=pps_id,
        description="",
        protocols=[],
        start=start,
    )


def _series_item(series: PerformedSeries) -> Dataset:
    ds = Dataset()
    ds.PerformingPhysicianName = ""
    ds.ProtocolName = series.protocol_name
    ds.OperatorsName = series.operator
    ds.SeriesInstanceUID = series.series_instance_uid
    ds.SeriesDescription = series.description
    ds.RetrieveAETitle = series.retrieve_ae
    ds.ReferencedImageSequence = sop_references(series.images)
    ds.ReferencedNonImageCompositeSOPInstanceSequence = DicomSequence()
    return ds


def _final(status: str, end: dt.datetime, series: Sequence[PerformedSeries]) -> Dataset:
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = format_da(end.date())
    ds.PerformedProcedureStepEndTime = format_tm(end)
    ds.PerformedSeriesSequence = DicomSequence([_series_item(s) for s in series])
    return ds


def n_set_completed(end: dt.datetime, series: Sequence[PerformedSeries]) -> Dataset:
    """N-SET COMPLETED listing exactly the series and instances stored."""
    return _final(COMPLETED, end, series)


def n_set_discontinued(
    end: dt.datetime, reason: Code, series: Sequence[PerformedSeries] = ()
) -> Dataset:
    """N-SET DISCONTINUED with its CID 9300 reason and whatever was stored before stopping."""
    ds = _final(DISCONTINUED, end, series)
    ds.PerformedProcedureStepDiscontinuationReasonCodeSequence = DicomSequence([code_item(reason)])
    return ds
