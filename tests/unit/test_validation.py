"""Validation findings (core/validation.py): each rule fails a faulty step, passes a clean one."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mppsconsole.core import validation
from mppsconsole.core.validation import APPENDIX_A, ERROR, INFO, TABLE_F72_1, WARNING, Finding
from mppsconsole.core.worklist import WorklistItem

ORDER = WorklistItem(
    patient_name="Wang^XiaoDong=王^小东",
    patient_id="P1",
    modality="CT",
    scheduled_start=dt.datetime(2026, 11, 21, 10, 0),
    accession_number="A0001",
    study_instance_uid="1.2.3.4",
    requested_procedure_id="RP1",
    scheduled_step_id="SPS1",
    birth_date="19800101",
    sex="M",
)


def scheduled_item() -> Dataset:
    item = Dataset()
    item.StudyInstanceUID = ORDER.study_instance_uid
    item.ReferencedStudySequence = Sequence()
    item.AccessionNumber = ORDER.accession_number
    item.RequestedProcedureID = ORDER.requested_procedure_id
    item.RequestedProcedureDescription = ""
    item.ScheduledProcedureStepID = ORDER.scheduled_step_id
    item.ScheduledProcedureStepDescription = ""
    item.ScheduledProtocolCodeSequence = Sequence()
    return item


def create_dataset() -> Dataset:
    """An N-CREATE with every Type 1 and Type 2 attribute, copied from ORDER."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ScheduledStepAttributesSequence = Sequence([scheduled_item()])
    ds.PatientName = ORDER.patient_name
    ds.PatientID = ORDER.patient_id
    ds.PatientBirthDate = ORDER.birth_date
    ds.PatientSex = ORDER.sex
    ds.ReferencedPatientSequence = Sequence()
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = "CT01"
    ds.PerformedStationName = ""
    ds.PerformedLocation = ""
    ds.PerformedProcedureStepStartDate = "20261121"
    ds.PerformedProcedureStepStartTime = "101500"
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = ""
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = Sequence()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = "CT"
    ds.StudyID = "RP1"
    ds.PerformedSeriesSequence = Sequence()
    return ds


def completed(images: list[str], status: str = "COMPLETED") -> Dataset:
    ds = create_dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "103000"
    series = Dataset()
    series.SeriesInstanceUID = "1.2.3.4.5"
    series.ProtocolName = "Chest"
    refs = []
    for uid in images:
        ref = Dataset()
        ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ref.ReferencedSOPInstanceUID = uid
        refs.append(ref)
    series.ReferencedImageSequence = Sequence(refs)
    ds.PerformedSeriesSequence = Sequence([series])
    return ds


def image(**overrides: str) -> Dataset:
    ds = Dataset()
    ds.AccessionNumber = ORDER.accession_number
    ds.PatientName = ORDER.patient_name
    ds.PatientID = ORDER.patient_id
    ds.PatientBirthDate = ORDER.birth_date
    ds.PatientSex = ORDER.sex
    ds.StudyInstanceUID = ORDER.study_instance_uid
    request = Dataset()
    request.RequestedProcedureID = ORDER.requested_procedure_id
    request.ScheduledProcedureStepID = ORDER.scheduled_step_id
    ds.RequestAttributesSequence = Sequence([request])
    for keyword, value in overrides.items():
        setattr(ds, keyword, value)
    return ds


def about(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.severity, f.attribute) for f in found}


def test_a_clean_n_create_has_no_findings() -> None:
    assert validation.check_create(create_dataset()) == []


@pytest.mark.parametrize("keyword", ["PerformedProcedureStepID", "Modality"])
def test_missing_type1_is_an_error(keyword: str) -> None:
    ds = create_dataset()
    delattr(ds, keyword)
    found = validation.check_create(ds)
    assert found == [Finding(ERROR, keyword, "Type 1 attribute missing at N-CREATE", TABLE_F72_1)]


def test_empty_type1_is_an_error() -> None:
    ds = create_dataset()
    ds.PerformedStationAETitle = ""
    assert about(validation.check_create(ds)) == {(ERROR, "PerformedStationAETitle")}


def test_missing_type2_is_a_warning_and_empty_type2_is_fine() -> None:
    ds = create_dataset()
    del ds.PatientBirthDate
    ds.PatientSex = ""
    del ds.ScheduledStepAttributesSequence[0].AccessionNumber
    found = validation.check_create(ds)
    assert about(found) == {(WARNING, "PatientBirthDate"), (WARNING, "AccessionNumber")}
    assert all(f.rule == TABLE_F72_1 for f in found)


def test_n_create_not_in_progress_is_an_error() -> None:
    ds = create_dataset()
    ds.PerformedProcedureStepStatus = "COMPLETED"
    assert about(validation.check_create(ds)) == {(ERROR, "PerformedProcedureStepStatus")}


def test_n_set_of_settable_attributes_has_no_findings() -> None:
    assert validation.check_set(["PerformedProcedureStepStatus", "PerformedSeriesSequence"]) == []


def test_n_set_of_create_only_and_foreign_attributes_is_an_error() -> None:
    found = validation.check_set(["PatientName", "PerformedProcedureStepStatus", "(0009,0010)"])
    assert [(f.attribute, f.message) for f in found] == [
        ("PatientName", "not permitted in N-SET"),
        ("(0009,0010)", "not an MPPS attribute"),
    ]


def test_in_progress_has_no_final_state_findings() -> None:
    assert validation.check_final_state(create_dataset()) == []
    assert validation.check_references(create_dataset(), ["9.9"]) == {}


def test_completed_with_every_stored_instance_referenced_is_clean() -> None:
    ds = completed(["1.1", "1.2"])
    assert validation.check_final_state(ds) == []
    assert validation.check_references(ds, ["1.2", "1.1"]) == {}
    assert validation.referenced_uids(ds) == {"1.1", "1.2"}


def test_completed_without_end_or_series_is_an_error() -> None:
    ds = completed([])
    ds.PerformedProcedureStepEndTime = ""
    ds.PerformedSeriesSequence = Sequence()
    found = validation.check_final_state(ds)
    assert about(found) == {
        (ERROR, "PerformedProcedureStepEndTime"),
        (ERROR, "PerformedSeriesSequence"),
    }


def test_series_without_protocol_name_is_an_error() -> None:
    ds = completed(["1.1"])
    ds.PerformedSeriesSequence[0].ProtocolName = ""
    assert about(validation.check_final_state(ds)) == {(ERROR, "ProtocolName")}


def test_stored_but_unreferenced_instance_is_an_error_and_the_reverse_a_warning() -> None:
    found = validation.check_references(completed(["1.1", "1.2"]), ["1.1", "1.3"])
    assert {uid: (f.severity, f.message) for uid, f in found.items()} == {
        "1.3": (ERROR, "stored instance 1.3 not referenced"),
        "1.2": (WARNING, "instance 1.2 referenced, not stored"),
    }
    assert found["1.3"] == validation.unreferenced("1.3")


def test_completed_without_any_instance_is_a_warning() -> None:
    assert about(validation.check_final_state(completed([]))) == {
        (WARNING, "ReferencedImageSequence")
    }


def test_discontinued_needs_end_but_no_series() -> None:
    ds = completed([], status="DISCONTINUED")
    ds.PerformedSeriesSequence = Sequence()
    assert validation.check_final_state(ds) == []
    del ds.PerformedProcedureStepEndDate
    assert about(validation.check_final_state(ds)) == {(ERROR, "PerformedProcedureStepEndDate")}


def test_step_copying_the_worklist_unchanged_is_clean() -> None:
    assert validation.check_worklist(create_dataset(), [ORDER]) == []


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("PatientName", "Wang^Xiaodong=王^小东"),
        ("PatientID", "P2"),
        ("PatientBirthDate", "19800102"),
        ("PatientSex", "F"),
    ],
)
def test_patient_attribute_changed_from_the_worklist_is_an_error(keyword: str, value: str) -> None:
    ds = create_dataset()
    setattr(ds, keyword, value)
    found = validation.check_worklist(ds, [ORDER])
    assert about(found) == {(ERROR, keyword)}
    assert found[0].rule == APPENDIX_A and value in found[0].message


@pytest.mark.parametrize(
    "keyword", ["AccessionNumber", "RequestedProcedureID", "ScheduledProcedureStepID"]
)
def test_order_attribute_changed_from_the_worklist_is_an_error(keyword: str) -> None:
    ds = create_dataset()
    setattr(ds.ScheduledStepAttributesSequence[0], keyword, "CHANGED")
    assert about(validation.check_worklist(ds, [ORDER])) == {(ERROR, keyword)}


def test_scheduled_item_without_our_order_is_info_and_unscheduled_is_silent() -> None:
    ds = create_dataset()
    assert about(validation.check_worklist(ds, [None])) == {
        (INFO, "ScheduledStepAttributesSequence")
    }
    item = ds.ScheduledStepAttributesSequence[0]
    item.AccessionNumber = ""
    item.ScheduledProcedureStepID = ""
    assert validation.check_worklist(ds, [None]) == []


def test_image_carrying_the_step_values_is_clean() -> None:
    assert validation.check_instance(create_dataset(), image(), "7.7") == []


def test_image_naming_another_scheduled_step_is_an_error() -> None:
    wrong = image()
    wrong.RequestAttributesSequence[0].ScheduledProcedureStepID = "SPS9"
    found = validation.check_instance(create_dataset(), wrong, "7.7")
    assert about(found) == {(ERROR, "RequestAttributesSequence")}
    assert "'SPS9'" in found[0].message


def test_image_without_request_attributes_is_a_warning_unless_unscheduled() -> None:
    bare = image()
    del bare.RequestAttributesSequence
    step = create_dataset()
    found = validation.check_instance(step, bare, "7.7")
    assert about(found) == {(WARNING, "RequestAttributesSequence")}
    step.ScheduledStepAttributesSequence[0].ScheduledProcedureStepID = ""
    step.ScheduledStepAttributesSequence[0].RequestedProcedureID = ""
    assert validation.check_instance(step, bare, "7.7") == []


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("PatientName", "Wang^XiaoDong"),
        ("PatientSex", "F"),
        ("StudyInstanceUID", "1.2.3.5"),
        ("AccessionNumber", "A0002"),
    ],
)
def test_image_differing_from_its_step_is_an_error(keyword: str, value: str) -> None:
    found = validation.check_instance(create_dataset(), image(**{keyword: value}), "7.7")
    assert about(found) == {(ERROR, keyword)}
    assert "7.7" in found[0].message and found[0].rule == APPENDIX_A
