"""MPPS N-CREATE / N-SET rules and the state machine (PS3.4 Annex F, Table F.7.2-1)."""

from __future__ import annotations

import pytest
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mppsconsole.core import mpps
from mppsconsole.core.errors import Refusal, ServiceError


def keywords(ds: Dataset) -> list[str]:
    """Top-level names as the SCP passes them: keyword, or tag for private/unknown."""
    return [e.keyword or f"({e.tag.group:04X},{e.tag.element:04X})" for e in ds]


def scheduled_item(**overrides: object) -> Dataset:
    item = Dataset()
    item.StudyInstanceUID = "1.2.3.4"
    item.AccessionNumber = "A0001"
    item.ScheduledProcedureStepID = "SPS1"
    for keyword, value in overrides.items():
        setattr(item, keyword, value)
    return item


def create_dataset() -> Dataset:
    """A conformant N-CREATE attribute list."""
    ds = Dataset()
    ds.ScheduledStepAttributesSequence = Sequence([scheduled_item()])
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "P1"
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = "MODALITY1"
    ds.PerformedProcedureStepStartDate = "20261121"
    ds.PerformedProcedureStepStartTime = "101500"
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.Modality = "CT"
    ds.PerformedSeriesSequence = Sequence()
    return ds


def series_item(**overrides: object) -> Dataset:
    item = Dataset()
    item.SeriesInstanceUID = "1.2.3.4.5"
    item.ProtocolName = "Chest"
    item.ReferencedImageSequence = Sequence()
    for keyword, value in overrides.items():
        setattr(item, keyword, value)
    return item


def final_dataset(status: str, *, with_series: bool = True) -> Dataset:
    """The merged attributes of a step that validly reaches ``status``."""
    ds = create_dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "103000"
    if with_series:
        ds.PerformedSeriesSequence = Sequence([series_item()])
    else:
        del ds.PerformedSeriesSequence
    return ds


def set_unchecked(ds: Dataset, keyword: str, value: str) -> None:
    """Set a value pydicom would warn about (a peer may still send it)."""
    if keyword in ds:
        delattr(ds, keyword)  # an existing element keeps the validation mode it was made with
    with config.disable_value_validation():
        setattr(ds, keyword, value)


def refused(call, *args: object) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as info:
        call(*args)
    error = info.value
    assert len(error.comment) <= 64, error.comment
    return error


# --- N-CREATE ---------------------------------------------------------------


def test_conformant_create_is_accepted() -> None:
    mpps.check_create(create_dataset())


@pytest.mark.parametrize("keyword", mpps.CREATE_TYPE1)
def test_create_missing_type1_attribute_is_refused_naming_it(keyword: str) -> None:
    ds = create_dataset()
    delattr(ds, keyword)
    error = refused(mpps.check_create, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE
    assert keyword in error.comment


@pytest.mark.parametrize("keyword", mpps.CREATE_TYPE1)
def test_create_empty_type1_attribute_is_refused_as_missing_value(keyword: str) -> None:
    ds = create_dataset()
    if keyword == "ScheduledStepAttributesSequence":
        ds.ScheduledStepAttributesSequence = Sequence()
    else:
        setattr(ds, keyword, "")
    error = refused(mpps.check_create, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE_VALUE
    assert keyword in error.comment


def test_create_without_study_uid_in_scheduled_step_is_refused() -> None:
    ds = create_dataset()
    item = scheduled_item()
    del item.StudyInstanceUID
    ds.ScheduledStepAttributesSequence = Sequence([scheduled_item(), item])
    error = refused(mpps.check_create, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE
    assert "StudyInstanceUID" in error.comment
    assert "ScheduledStepAttributesSequence" in error.comment


def test_create_with_empty_study_uid_in_scheduled_step_is_refused() -> None:
    ds = create_dataset()
    ds.ScheduledStepAttributesSequence = Sequence([scheduled_item(StudyInstanceUID="")])
    error = refused(mpps.check_create, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE_VALUE
    assert "StudyInstanceUID" in error.comment


def test_create_may_reference_several_scheduled_steps() -> None:
    ds = create_dataset()
    ds.ScheduledStepAttributesSequence = Sequence(
        [scheduled_item(), scheduled_item(ScheduledProcedureStepID="SPS2")]
    )
    mpps.check_create(ds)


@pytest.mark.parametrize("status", ["COMPLETED", "DISCONTINUED", "STARTED", "in progress"])
def test_create_with_status_other_than_in_progress_is_refused(status: str) -> None:
    ds = create_dataset()
    set_unchecked(ds, "PerformedProcedureStepStatus", status)
    error = refused(mpps.check_create, ds)
    assert error.refusal is Refusal.INVALID_ATTRIBUTE_VALUE
    # The comment names the attribute and the offending value in full.
    assert "PerformedProcedureStepStatus" in error.comment
    assert status in error.comment


def test_missing_attribute_is_reported_before_a_wrong_status() -> None:
    ds = create_dataset()
    ds.PerformedProcedureStepStatus = "COMPLETED"
    del ds.Modality
    assert refused(mpps.check_create, ds).refusal is Refusal.MISSING_ATTRIBUTE


def test_service_error_truncates_comment_to_lo_length() -> None:
    error = ServiceError(Refusal.PROCESSING_FAILURE, "x" * 100)
    assert error.comment == "x" * 64
    assert str(error) == "x" * 100


# --- N-SET --------------------------------------------------------------------


@pytest.mark.parametrize("current", sorted(mpps.FINAL_STATUSES))
def test_set_on_final_step_is_refused_as_not_updatable(current: str) -> None:
    mods = Dataset()
    mods.PerformedProcedureStepDescription = "late change"
    error = refused(mpps.check_set, current, mods, keywords(mods))
    assert error.refusal is Refusal.NOT_UPDATABLE
    assert "may no longer be updated" in error.comment


@pytest.mark.parametrize("current", sorted(mpps.FINAL_STATUSES))
def test_final_state_wins_over_other_faults(current: str) -> None:
    mods = Dataset()
    mods.PatientName = "Other^Name"
    error = refused(mpps.check_set, current, mods, keywords(mods))
    assert error.refusal is Refusal.NOT_UPDATABLE


def test_intermediate_set_that_stays_in_progress_is_accepted() -> None:
    mods = Dataset()
    mods.PerformedProcedureStepStatus = "IN PROGRESS"
    mods.PerformedProcedureStepDescription = "CT chest"
    mods.PerformedSeriesSequence = Sequence([series_item()])
    mpps.check_set("IN PROGRESS", mods, keywords(mods))


@pytest.mark.parametrize("status", ["COMPLETED", "DISCONTINUED"])
def test_set_to_a_final_status_passes_check_set(status: str) -> None:
    mods = Dataset()
    mods.PerformedProcedureStepStatus = status
    mods.PerformedProcedureStepEndDate = "20261121"
    mods.PerformedProcedureStepEndTime = "110000"
    mpps.check_set("IN PROGRESS", mods, keywords(mods))


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("PatientName", "Other^Name"),
        ("PatientID", "P2"),
        ("Modality", "MR"),
        ("PerformedProcedureStepStartDate", "20261122"),
        ("PerformedStationAETitle", "OTHER"),
        ("PerformedProcedureStepID", "PPS2"),
        ("ScheduledStepAttributesSequence", Sequence([scheduled_item()])),
    ],
)
def test_set_of_create_only_attribute_is_refused_naming_it(keyword: str, value: object) -> None:
    mods = Dataset()
    mods.PerformedProcedureStepDescription = "allowed"
    setattr(mods, keyword, value)
    error = refused(mpps.check_set, "IN PROGRESS", mods, keywords(mods))
    assert error.refusal is Refusal.INVALID_ATTRIBUTE_VALUE
    assert keyword in error.comment
    assert "PerformedProcedureStepDescription" not in error.comment


def test_set_of_private_attribute_is_refused_as_no_such_attribute() -> None:
    mods = Dataset()
    mods.PerformedProcedureStepDescription = "allowed"
    mods.add_new(0x00091001, "LO", "vendor data")
    error = refused(mpps.check_set, "IN PROGRESS", mods, keywords(mods))
    assert error.refusal is Refusal.NO_SUCH_ATTRIBUTE
    assert "(0009,1001)" in error.comment


def test_set_of_attribute_outside_the_mpps_iod_is_refused_as_no_such_attribute() -> None:
    mods = Dataset()
    mods.StudyDescription = "not an MPPS attribute"
    error = refused(mpps.check_set, "IN PROGRESS", mods, keywords(mods))
    assert error.refusal is Refusal.NO_SUCH_ATTRIBUTE
    assert "StudyDescription" in error.comment


@pytest.mark.parametrize("status", ["STARTED", "SCHEDULED", "completed", ""])
def test_set_with_invalid_status_value_is_refused(status: str) -> None:
    mods = Dataset()
    set_unchecked(mods, "PerformedProcedureStepStatus", status)
    error = refused(mpps.check_set, "IN PROGRESS", mods, keywords(mods))
    assert error.refusal is Refusal.INVALID_ATTRIBUTE_VALUE
    assert "PerformedProcedureStepStatus" in error.comment


def test_settable_and_create_only_attributes_do_not_overlap() -> None:
    # An attribute in both sets would be refused by N-SET although Table F.7.2-1 allows it.
    assert not (mpps.SETTABLE & mpps.CREATE_ONLY)
    assert set(mpps.CREATE_TYPE1) <= mpps.CREATE_ONLY | mpps.SETTABLE


@pytest.mark.parametrize("keyword", sorted(mpps.SETTABLE - {"PerformedProcedureStepStatus"}))
def test_every_settable_attribute_is_accepted_by_n_set(keyword: str) -> None:
    mods = Dataset()
    mods.PerformedProcedureStepStatus = "IN PROGRESS"
    mpps.check_set("IN PROGRESS", mods, [*keywords(mods), keyword])


# --- Final state ------------------------------------------------------------


@pytest.mark.parametrize("status", ["COMPLETED", "DISCONTINUED"])
def test_complete_final_state_is_accepted(status: str) -> None:
    mpps.check_final_state(final_dataset(status))


def test_in_progress_step_needs_no_final_state_attributes() -> None:
    mpps.check_final_state(create_dataset())


@pytest.mark.parametrize("status", ["COMPLETED", "DISCONTINUED"])
@pytest.mark.parametrize(
    "keyword", ["PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime"]
)
def test_final_state_without_end_date_or_time_is_refused(status: str, keyword: str) -> None:
    ds = final_dataset(status)
    delattr(ds, keyword)
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE
    assert keyword in error.comment
    assert status in error.comment


@pytest.mark.parametrize("status", ["COMPLETED", "DISCONTINUED"])
@pytest.mark.parametrize(
    "keyword", ["PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime"]
)
def test_final_state_with_empty_end_date_or_time_is_refused(status: str, keyword: str) -> None:
    ds = final_dataset(status)
    setattr(ds, keyword, "")
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE_VALUE
    assert keyword in error.comment


def test_completed_without_performed_series_is_refused() -> None:
    ds = final_dataset("COMPLETED", with_series=False)
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE
    assert "PerformedSeriesSequence" in error.comment


def test_completed_with_empty_performed_series_is_refused() -> None:
    ds = final_dataset("COMPLETED")
    ds.PerformedSeriesSequence = Sequence()
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE_VALUE
    assert "PerformedSeriesSequence" in error.comment


@pytest.mark.parametrize("keyword", mpps.SERIES_TYPE1)
def test_completed_series_item_without_type1_attribute_is_refused(keyword: str) -> None:
    ds = final_dataset("COMPLETED")
    incomplete = series_item()
    delattr(incomplete, keyword)
    ds.PerformedSeriesSequence = Sequence([series_item(), incomplete])
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE
    assert keyword in error.comment


@pytest.mark.parametrize("keyword", mpps.SERIES_TYPE1)
def test_completed_series_item_with_empty_type1_attribute_is_refused(keyword: str) -> None:
    ds = final_dataset("COMPLETED")
    ds.PerformedSeriesSequence = Sequence([series_item(**{keyword: ""})])
    error = refused(mpps.check_final_state, ds)
    assert error.refusal is Refusal.MISSING_ATTRIBUTE_VALUE
    assert keyword in error.comment


def test_discontinued_without_series_is_accepted() -> None:
    mpps.check_final_state(final_dataset("DISCONTINUED", with_series=False))


def test_discontinued_with_empty_series_is_accepted() -> None:
    ds = final_dataset("DISCONTINUED")
    ds.PerformedSeriesSequence = Sequence()
    mpps.check_final_state(ds)


@pytest.mark.parametrize(
    ("pps", "sps"),
    [("IN PROGRESS", "STARTED"), ("COMPLETED", "COMPLETED"), ("DISCONTINUED", "DISCONTINUED")],
)
def test_worklist_status_follows_step_status(pps: str, sps: str) -> None:
    assert mpps.worklist_status_for(pps) == sps
