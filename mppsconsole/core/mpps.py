"""Modality Performed Procedure Step rules (PS3.4 Annex F, Table F.7.2-1).

The SCP applies these to every N-CREATE and N-SET before anything is stored:
the state machine (IN PROGRESS -> COMPLETED | DISCONTINUED, final states
frozen), the Type 1 attributes of N-CREATE, the attributes N-SET may change,
and what a step must carry once it reaches a final state.
"""

from __future__ import annotations

from collections.abc import Iterable

from mppsconsole.core.attributes import Attributes, is_empty, items
from mppsconsole.core.errors import Refusal, ServiceError

IN_PROGRESS = "IN PROGRESS"
COMPLETED = "COMPLETED"
DISCONTINUED = "DISCONTINUED"
STATUSES = (IN_PROGRESS, COMPLETED, DISCONTINUED)
FINAL_STATUSES = frozenset({COMPLETED, DISCONTINUED})

#: Error ID (US) that PS3.4 F.7.2.2.2 attaches to 0110 for a step in a final state.
ERROR_ID_NOT_UPDATABLE = 0xA710

#: Type 1 at N-CREATE (Table F.7.2-1); everything else there is Type 2 or 3.
CREATE_TYPE1 = (
    "ScheduledStepAttributesSequence",
    "PerformedProcedureStepID",
    "PerformedStationAETitle",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "PerformedProcedureStepStatus",
    "Modality",
)
#: Type 1 inside each Scheduled Step Attributes Sequence item.
SCHEDULED_STEP_TYPE1 = ("StudyInstanceUID",)
#: Type 2 at N-CREATE (Table F.7.2-1): present, possibly empty. Real modalities often
#: leave some out; the strict profile refuses that, the lenient one accepts it.
CREATE_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "ReferencedPatientSequence",
    "PerformedStationName",
    "PerformedLocation",
    "PerformedProcedureStepDescription",
    "PerformedProcedureTypeDescription",
    "ProcedureCodeSequence",
    "PerformedProcedureStepEndDate",
    "PerformedProcedureStepEndTime",
    "StudyID",
    "PerformedProtocolCodeSequence",
    "PerformedSeriesSequence",
)
#: Type 2 inside each Scheduled Step Attributes Sequence item.
SCHEDULED_STEP_TYPE2 = (
    "ReferencedStudySequence",
    "AccessionNumber",
    "RequestedProcedureID",
    "RequestedProcedureDescription",
    "ScheduledProcedureStepID",
    "ScheduledProcedureStepDescription",
    "ScheduledProtocolCodeSequence",
)

#: What N-SET may carry (Table F.7.2-1, the N-SET column not "Not allowed").
SETTABLE = frozenset(
    {
        "SpecificCharacterSet",
        "PerformedProcedureStepStatus",
        "PerformedProcedureStepDescription",
        "PerformedProcedureTypeDescription",
        "ProcedureCodeSequence",
        "PerformedProcedureStepEndDate",
        "PerformedProcedureStepEndTime",
        "CommentsOnThePerformedProcedureStep",
        "PerformedProcedureStepDiscontinuationReasonCodeSequence",
        "PerformedProtocolCodeSequence",
        "PerformedSeriesSequence",
        # Radiation Dose module
        "AnatomicStructureSpaceOrRegionSequence",
        "TotalTimeOfFluoroscopy",
        "TotalNumberOfExposures",
        "DistanceSourceToDetector",
        "DistanceSourceToEntrance",
        "EntranceDose",
        "EntranceDoseInmGy",
        "ExposedArea",
        "ImageAndFluoroscopyAreaDoseProduct",
        "CommentsOnRadiationDose",
        "ExposureDoseSequence",
        # Billing and Material Management module
        "BillingProcedureStepSequence",
        "FilmConsumptionSequence",
        "BillingSuppliesAndDevicesSequence",
    }
)

#: Attributes of the MPPS IOD that only N-CREATE may set.
CREATE_ONLY = frozenset(
    {
        "ScheduledStepAttributesSequence",
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "PatientBirthDate",
        "PatientSex",
        "ReferencedPatientSequence",
        "AdmissionID",
        "PerformedProcedureStepID",
        "PerformedStationAETitle",
        "PerformedStationName",
        "PerformedLocation",
        "PerformedProcedureStepStartDate",
        "PerformedProcedureStepStartTime",
        "Modality",
        "StudyID",
        "SOPClassUID",
        "SOPInstanceUID",
    }
)

#: Final-state requirements inside each Performed Series Sequence item (Table F.7.2-2).
SERIES_TYPE1 = ("SeriesInstanceUID", "ProtocolName")


def _require(attrs: Attributes, keywords: Iterable[str], where: str) -> None:
    for keyword in keywords:
        if keyword not in attrs:
            raise ServiceError(Refusal.MISSING_ATTRIBUTE, f"Missing {keyword}{where}")
        if is_empty(attrs.get(keyword)):
            raise ServiceError(Refusal.MISSING_ATTRIBUTE_VALUE, f"No value for {keyword}{where}")


def check_create(attrs: Attributes) -> None:
    """Refuse an N-CREATE that a conformant SCP may not accept."""
    _require(attrs, CREATE_TYPE1, "")
    for item in items(attrs, "ScheduledStepAttributesSequence"):
        _require(item, SCHEDULED_STEP_TYPE1, " in ScheduledStepAttributesSequence")
    status = str(attrs.get("PerformedProcedureStepStatus")).strip()
    if status != IN_PROGRESS:
        # Worded to fit the 64-character Error Comment with "DISCONTINUED" in full.
        raise ServiceError(
            Refusal.INVALID_ATTRIBUTE_VALUE,
            f"PerformedProcedureStepStatus {status} is not IN PROGRESS",
        )


def missing_type2(attrs: Attributes) -> list[str]:
    """The Type 2 attributes an N-CREATE left out (empty ones are fine)."""
    missing = [k for k in CREATE_TYPE2 if k not in attrs]
    for item in items(attrs, "ScheduledStepAttributesSequence"):
        missing += [
            f"{k} in ScheduledStepAttributesSequence"
            for k in SCHEDULED_STEP_TYPE2
            if k not in item and f"{k} in ScheduledStepAttributesSequence" not in missing
        ]
    return missing


def check_type2(attrs: Attributes) -> None:
    """Refuse an N-CREATE without its Type 2 attributes (0120, naming the first)."""
    missing = missing_type2(attrs)
    if missing:
        raise ServiceError(Refusal.MISSING_ATTRIBUTE, f"Missing {missing[0]}")


def not_created(created: Attributes, keywords: Iterable[str]) -> list[str]:
    """Attributes an N-SET changes that the step does not have (never created).

    Specific Character Set only says how the modification list is encoded.
    """
    return [k for k in keywords if k != "SpecificCharacterSet" and k not in created]


def check_set(current_status: str, attrs: Attributes, keywords: Iterable[str]) -> None:
    """Refuse an N-SET that the state machine or Table F.7.2-1 forbids.

    ``keywords`` names every top-level attribute of the modification list
    (a tag in ``(gggg,eeee)`` form when it has no keyword).
    """
    if current_status in FINAL_STATUSES:
        raise ServiceError(
            Refusal.NOT_UPDATABLE,
            "Performed Procedure Step Object may no longer be updated",
        )
    keywords = list(keywords)
    unknown = [k for k in keywords if k not in SETTABLE and k not in CREATE_ONLY]
    if unknown:
        raise ServiceError(
            Refusal.NO_SUCH_ATTRIBUTE, "Not an MPPS attribute: " + ", ".join(unknown)
        )
    frozen = [k for k in keywords if k in CREATE_ONLY]
    if frozen:
        raise ServiceError(
            Refusal.INVALID_ATTRIBUTE_VALUE, "N-SET may not change " + ", ".join(frozen)
        )
    if "PerformedProcedureStepStatus" in attrs:
        status = str(attrs.get("PerformedProcedureStepStatus") or "").strip()
        if status not in STATUSES:
            raise ServiceError(
                Refusal.INVALID_ATTRIBUTE_VALUE,
                f"Invalid PerformedProcedureStepStatus {status!r}",
            )


def check_final_state(merged: Attributes) -> None:
    """Refuse a step reaching COMPLETED/DISCONTINUED without its final-state attributes."""
    status = str(merged.get("PerformedProcedureStepStatus") or "").strip()
    if status not in FINAL_STATUSES:
        return
    where = f" for {status}"
    _require(merged, ("PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime"), where)
    if status == COMPLETED:
        _require(merged, ("PerformedSeriesSequence",), where)
        for item in items(merged, "PerformedSeriesSequence"):
            _require(item, SERIES_TYPE1, " in PerformedSeriesSequence")


def worklist_status_for(pps_status: str) -> str:
    """The Scheduled Procedure Step Status a referenced worklist item takes."""
    return {IN_PROGRESS: "STARTED", COMPLETED: "COMPLETED", DISCONTINUED: "DISCONTINUED"}[
        pps_status
    ]
