"""Validation findings of received steps: a faulty step sent by a pynetdicom SCU leaves its
findings in the store (with the tally on the step row); a clean one leaves none."""

from __future__ import annotations

import datetime as dt
import json

from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core import validation
from mppsconsole.core.attributes import text
from mppsconsole.core.step import RECEIVED
from mppsconsole.core.validation import APPENDIX_A, ERROR, RAD7, TABLE_F72_1, WARNING
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.net import datasets
from mppsconsole.net.json_attributes import JsonAttributes
from mppsconsole.store import findings
from tests.conftest import RunningServer
from tests.network.conftest import (
    add_worklist,
    associate,
    completed_dataset,
    create_dataset,
    create_step,
    ct_image,
    mpps_association,
    performed_series,
    scheduled_item,
    stored_step,
)


def _order(scp: RunningServer) -> WorklistItem:
    (item,) = add_worklist(
        scp,
        {
            "patient_name": "Wang^XiaoDong=王^小东",
            "patient_id": "GB0001",
            "birth_date": "19800101",
            "sex": "M",
            "modality": "CT",
            "date": "20261121",
            "time": "0930",
        },
    )
    return item


def _step_for(item: WorklistItem) -> Dataset:
    ds = create_dataset(
        scheduled=[
            scheduled_item(
                item.study_instance_uid,
                item.scheduled_step_id,
                item.accession_number,
                item.requested_procedure_id,
            )
        ],
        patient_name=item.patient_name,
        patient_id=item.patient_id,
    )
    ds.PatientBirthDate = item.birth_date
    ds.PatientSex = item.sex
    return ds


def _image_for(item: WorklistItem, **changes: str) -> Dataset:
    image = ct_image(item.study_instance_uid)
    image.SpecificCharacterSet = "ISO_IR 192"
    image.PatientName = item.patient_name
    image.PatientID = item.patient_id
    image.PatientBirthDate = item.birth_date
    image.PatientSex = item.sex
    image.AccessionNumber = item.accession_number
    request = Dataset()
    request.RequestedProcedureID = item.requested_procedure_id
    request.ScheduledProcedureStepID = item.scheduled_step_id
    image.RequestAttributesSequence = [request]
    for keyword, value in changes.items():
        setattr(image, keyword, value)
    return image


def _store(scp: RunningServer, image: Dataset) -> None:
    with associate(scp, CTImageStorage) as assoc:
        assert assoc.send_c_store(image).Status == 0x0000


def _complete(scp: RunningServer, uid: str, image_uids: list[str]) -> None:
    mods = completed_dataset([performed_series(image_uids=image_uids)])
    with mpps_association(scp) as assoc:
        status, _ = assoc.send_n_set(mods, ModalityPerformedProcedureStep, uid)
    assert status.Status == 0x0000


def _findings(scp: RunningServer, uid: str) -> set[tuple[str, str, str]]:
    with scp.db.reading() as conn:
        return {(f.severity, f.attribute, f.rule) for f in findings.for_step(conn, uid, RECEIVED)}


def test_clean_step_from_the_worklist_has_no_findings(scp: RunningServer) -> None:
    item = _order(scp)
    with mpps_association(scp) as assoc:
        uid = create_step(assoc, _step_for(item))
    image = _image_for(item)
    _store(scp, image)
    _complete(scp, uid, [image.SOPInstanceUID])
    assert _findings(scp, uid) == set()
    stored = stored_step(scp, uid)
    assert stored is not None and stored.summary.status == "COMPLETED"
    assert (stored.summary.finding_count, stored.summary.worst_finding) == (0, "")


def test_faulty_step_and_image_leave_findings_with_a_tally(scp: RunningServer) -> None:
    item = _order(scp)
    ds = _step_for(item)
    ds.PatientName = "Wang^Xiaodong=王^小东"  # not copied unchanged from the worklist
    del ds.PatientBirthDate  # Type 2 missing
    with mpps_association(scp) as assoc:
        uid = create_step(assoc, ds)
    after_create = _findings(scp, uid)
    assert after_create == {
        (WARNING, "PatientBirthDate", TABLE_F72_1),
        (ERROR, "PatientName", APPENDIX_A),  # the step against the worklist
        (ERROR, "PatientBirthDate", APPENDIX_A),
    }
    stored = stored_step(scp, uid)
    assert stored is not None
    assert (stored.summary.finding_count, stored.summary.worst_finding) == (3, ERROR)

    wrong_patient = _image_for(item, PatientName="Wang^Xiaodong=王^小东", PatientID="OTHER")
    wrong_patient.RequestAttributesSequence[0].ScheduledProcedureStepID = "SPS-OTHER"
    _store(scp, wrong_patient)
    assert {
        (ERROR, "PatientID", APPENDIX_A),
        (ERROR, "RequestAttributesSequence", APPENDIX_A),
    } <= _findings(scp, uid)

    # The final N-SET lists an instance never stored and leaves out the one that was.
    _complete(scp, uid, ["1.2.3.999"])
    with scp.db.reading() as conn:
        found = findings.for_step(conn, uid, RECEIVED)
    messages = {(f.severity, f.message) for f in found if f.rule == RAD7}
    assert messages == {
        (ERROR, f"stored instance {wrong_patient.SOPInstanceUID} not referenced"),
        (WARNING, "instance 1.2.3.999 referenced, not stored"),
    }
    assert found[0].severity == ERROR  # worst first
    stored = stored_step(scp, uid)
    assert stored is not None and stored.summary.finding_count == len(found)


def test_images_arriving_after_completion_settle_the_references(scp: RunningServer) -> None:
    item = _order(scp)
    with mpps_association(scp) as assoc:
        uid = create_step(assoc, _step_for(item))
    late, stray = _image_for(item), _image_for(item)
    _complete(scp, uid, [late.SOPInstanceUID])
    assert _findings(scp, uid) == {(WARNING, "ReferencedSOPInstanceUID", RAD7)}

    _store(scp, late)  # the referenced image arrives: nothing left to report
    assert _findings(scp, uid) == set()
    stored = stored_step(scp, uid)
    assert stored is not None and (stored.summary.finding_count, stored.summary.worst_finding) == (
        0,
        "",
    )

    _store(scp, stray)  # an image of the step the final N-SET left out
    with scp.db.reading() as conn:
        (finding,) = findings.for_step(conn, uid, RECEIVED)
    assert (finding.severity, finding.message) == (
        ERROR,
        f"stored instance {stray.SOPInstanceUID} not referenced",
    )
    stored = stored_step(scp, uid)
    assert stored is not None and (stored.summary.finding_count, stored.summary.worst_finding) == (
        1,
        ERROR,
    )


def _assert_tally_matches_the_store(scp: RunningServer, uid: str) -> int:
    stored = stored_step(scp, uid)
    assert stored is not None
    with scp.db.reading() as conn:
        counted = findings.tally(conn, uid, RECEIVED)
    assert (stored.summary.finding_count, stored.summary.worst_finding) == counted
    return counted[0]


def test_the_tally_kept_on_the_step_row_is_what_the_store_counts(scp: RunningServer) -> None:
    """An N-SET of a step without findings writes and counts them without asking the
    store; once the step has some (here an image's), it replaces and counts in the store."""
    item = _order(scp)
    with mpps_association(scp) as assoc:
        uid = create_step(assoc, _step_for(item))
        assert _assert_tally_matches_the_store(scp, uid) == 0
        mods = Dataset()
        mods.PerformedProcedureStepDescription = "CT chest, contrast"
        status, _ = assoc.send_n_set(mods, ModalityPerformedProcedureStep, uid)
        assert status.Status == 0x0000
    assert _assert_tally_matches_the_store(scp, uid) == 0
    _store(scp, _image_for(item, PatientID="OTHER"))
    before = _assert_tally_matches_the_store(scp, uid)
    assert before > 0
    _complete(scp, uid, ["1.2.3.999"])
    assert _assert_tally_matches_the_store(scp, uid) == before + 2  # referenced, left out
    second = _order(scp)
    with mpps_association(scp) as assoc:
        clean = create_step(assoc, _step_for(second))
    _complete(scp, clean, ["1.2.3.998"])  # from none to one, counted without the store
    assert _assert_tally_matches_the_store(scp, clean) == 1


def test_rules_read_stored_json_as_they_read_the_dataset() -> None:
    """The JSON view the hooks use gives the rules the values a pydicom Dataset gives."""
    ds = create_dataset(patient_name="Wang^XiaoDong=王^小东")
    del ds.PatientSex
    ds.PerformedStationAETitle = ""
    ds.ScheduledStepAttributesSequence[0].AccessionNumber = "A1"
    view = JsonAttributes(json.loads(datasets.to_json(ds)))
    assert validation.check_create(view) == validation.check_create(ds)
    assert text(view, "PatientName") == str(ds.PatientName)
    order = WorklistItem(
        patient_name="Wang^XiaoDong=王^小东",
        patient_id="X",
        modality="CT",
        scheduled_start=dt.datetime(2026, 11, 21),
        accession_number="A2",
        study_instance_uid="1.2",
        requested_procedure_id="RP1",
        scheduled_step_id="SPS1",
    )
    assert validation.check_worklist(view, [order]) == validation.check_worklist(ds, [order])
    assert validation.check_worklist(ds, [order])  # the comparison found something to compare
