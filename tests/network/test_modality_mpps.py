"""MPPS as a modality (IHE RAD-6 / RAD-7), asserted attribute by attribute.

The peer is :class:`tests.network.peers.RecordingScp`, a bare pynetdicom SCP
that keeps every N-CREATE, N-SET and C-STORE it receives, so what the console
sends is checked against PS3.4 Table F.7.2-1 and IHE RAD TF-2 one attribute at
a time, and the N-SET's image references against the instances that arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import UID

from mppsconsole.core.codes import DISCONTINUATION_REASONS
from tests.conftest import LOOPBACK
from tests.network.peers import (
    LOCATION,
    MODALITY_AE,
    OPERATOR,
    STATION_NAME,
    DcmtkServer,
    Modality,
    RecordingScp,
    dataset_files,
    recording_scp,
    storescp,
)

DETACHED_STUDY_MANAGEMENT = "1.2.840.10008.3.1.2.3.1"

ORDER: dict[str, str] = {
    "patient_name": "Doe^Jane",
    "patient_id": "PID-6",
    "birth_date": "19800214",
    "sex": "F",
    "modality": "CT",
    "scheduled_start": "2026-11-21T08:00:00",
    "accession_number": "ACC-RAD6",
    "study_instance_uid": "1.2.826.0.1.3680043.10.543.77.1",
    "requested_procedure_id": "RP-77",
    "scheduled_step_id": "SPS-77-1",
    "description": "CT chest with contrast",
    "step_description": "CT chest arterial phase",
    "scheduled_station_ae": "CT01",
    "protocol_code_value": "CHEST-CE",
    "protocol_coding_scheme": "99RIS",
    "protocol_code_meaning": "Chest contrast enhanced",
}


@pytest.fixture(scope="module")
def recorder_peer() -> Iterator[RecordingScp]:
    with recording_scp() as peer:
        yield peer


@pytest.fixture
def recorder(recorder_peer: RecordingScp) -> RecordingScp:
    recorder_peer.reset()
    return recorder_peer


@pytest.fixture
def modality(tmp_path: Path, recorder: RecordingScp) -> Modality:
    return Modality(tmp_path, recorder.node_toml("recorder"))


def import_orders(modality: Modality, tmp_path: Path, *orders: dict[str, str]) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(list(orders)), encoding="utf-8")
    modality.ok("worklist", "import", str(path))


def start(modality: Modality, *args: str) -> str:
    uid = modality.ok("mpps", "start", "--to", "recorder", *args).stdout.strip()
    assert re.fullmatch(r"[0-9]+(\.[0-9]+)+", uid) and len(uid) <= 64, uid
    return uid


def present_and_empty(ds: Dataset, keyword: str) -> bool:
    """A Type 2 attribute: there, without a value (or a sequence without items)."""
    return keyword in ds and (ds[keyword].value in (None, "", []) or len(ds[keyword].value) == 0)


def close_to_now(date: str, time: str) -> bool:
    assert re.fullmatch(r"\d{8}", date) and re.fullmatch(r"\d{6}", time), (date, time)
    moment = dt.datetime.strptime(date + time, "%Y%m%d%H%M%S")
    return abs((dt.datetime.now() - moment).total_seconds()) < 120


def step_json(modality: Modality, uid: str) -> dict[str, Any]:
    (found,) = [s for s in modality.steps() if s["sop_instance_uid"] == uid]
    return found


# ------------------------------------------------------------------ N-CREATE


def test_scheduled_n_create_carries_every_rad6_attribute(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")

    (create,) = recorder.creates
    assert create.sop_instance_uid == uid
    assert create.calling_ae == MODALITY_AE
    ds = create.dataset

    # Scheduled Step Attributes Sequence: copied from the worklist item.
    (ssa,) = ds.ScheduledStepAttributesSequence
    assert ssa.StudyInstanceUID == ORDER["study_instance_uid"]
    (ref_study,) = ssa.ReferencedStudySequence
    assert ref_study.ReferencedSOPClassUID == DETACHED_STUDY_MANAGEMENT
    assert ref_study.ReferencedSOPInstanceUID == ORDER["study_instance_uid"]
    assert ssa.AccessionNumber == "ACC-RAD6"
    assert ssa.RequestedProcedureID == "RP-77"
    assert ssa.RequestedProcedureDescription == "CT chest with contrast"
    assert ssa.ScheduledProcedureStepID == "SPS-77-1"
    assert ssa.ScheduledProcedureStepDescription == "CT chest arterial phase"
    (protocol,) = ssa.ScheduledProtocolCodeSequence
    assert protocol.CodeValue == "CHEST-CE"
    assert protocol.CodingSchemeDesignator == "99RIS"
    assert protocol.CodeMeaning == "Chest contrast enhanced"

    # Patient.
    assert ds.PatientName == "Doe^Jane"
    assert ds.PatientID == "PID-6"
    assert ds.PatientBirthDate == "19800214"
    assert ds.PatientSex == "F"

    # Performed station.
    assert ds.PerformedStationAETitle == MODALITY_AE
    assert ds.PerformedStationName == STATION_NAME
    assert ds.PerformedLocation == LOCATION

    # The performed procedure step.
    assert ds.PerformedProcedureStepID
    assert close_to_now(ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime)
    assert ds.PerformedProcedureStepStatus == "IN PROGRESS"
    assert ds.PerformedProcedureStepDescription == "CT chest with contrast"
    assert present_and_empty(ds, "ProcedureCodeSequence")
    assert ds.Modality == "CT"
    assert ds.StudyID == "RP-77"
    assert present_and_empty(ds, "PerformedSeriesSequence")
    # Type 2 attributes that only the final N-SET fills.
    assert present_and_empty(ds, "PerformedProcedureStepEndDate")
    assert present_and_empty(ds, "PerformedProcedureStepEndTime")
    assert "PerformedProcedureTypeDescription" in ds
    assert "ReferencedPatientSequence" in ds

    # Kept as a sent step, with its message history.
    step = step_json(modality, uid)
    assert step["direction"] == "sent"
    assert step["status"] == "IN PROGRESS"
    assert step["patient_name"] == "Doe^Jane"
    assert step["patient_id"] == "PID-6"
    assert step["accession_number"] == "ACC-RAD6"
    assert step["modality"] == "CT"
    assert step["station_ae"] == MODALITY_AE
    assert step["calling_ae"] == MODALITY_AE
    assert step["end"] is None
    assert dt.datetime.fromisoformat(step["start"]) == dt.datetime.strptime(
        ds.PerformedProcedureStepStartDate + ds.PerformedProcedureStepStartTime, "%Y%m%d%H%M%S"
    )
    assert (step["series_count"], step["image_count"]) == (0, 0)
    shown = modality.step(uid)
    assert [(m["command"], m["status"], m["direction"]) for m in shown["messages"]] == [
        ("N-CREATE", "0x0000", "sent")
    ]
    assert shown["messages"][0]["calling_ae"] == "RECORDER"  # the peer's AE, as addressed
    assert shown["messages"][0]["peer"] == f"{LOOPBACK}:{recorder.port}"


def test_unscheduled_n_create_has_a_new_study_and_empty_scheduled_keys(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    args = ("--unscheduled", "--patient-name", "Roe^Richard", "--patient-id", "PID-U")
    first = start(modality, *args, "--modality", "mr", "--birth-date", "19700101", "--sex", "M")
    second = start(modality, *args, "--modality", "MR")

    studies = []
    for create, uid in zip(recorder.creates, (first, second), strict=True):
        assert create.sop_instance_uid == uid
        ds = create.dataset
        (ssa,) = ds.ScheduledStepAttributesSequence
        assert UID(ssa.StudyInstanceUID).is_valid
        studies.append(ssa.StudyInstanceUID)
        for keyword in (
            "ReferencedStudySequence",
            "AccessionNumber",
            "RequestedProcedureID",
            "RequestedProcedureDescription",
            "ScheduledProcedureStepID",
            "ScheduledProcedureStepDescription",
            "ScheduledProtocolCodeSequence",
        ):
            assert present_and_empty(ssa, keyword), keyword
        assert ds.PatientName == "Roe^Richard"
        assert ds.PatientID == "PID-U"
        assert ds.Modality == "MR"
        assert ds.PerformedProcedureStepStatus == "IN PROGRESS"
        assert ds.PerformedStationAETitle == MODALITY_AE
        assert present_and_empty(ds, "PerformedSeriesSequence")
    assert recorder.creates[0].dataset.PatientBirthDate == "19700101"
    assert recorder.creates[0].dataset.PatientSex == "M"
    assert len(set(studies)) == 2
    assert ORDER["study_instance_uid"] not in studies
    assert {s["accession_number"] for s in modality.steps()} == {""}


def test_unscheduled_needs_the_patient(modality: Modality, recorder: RecordingScp) -> None:
    result = modality.run("mpps", "start", "--to", "recorder", "--unscheduled", "--modality", "CT")
    result.assert_one_line_error(2, "--patient-name", "--patient-id")
    assert recorder.creates == []


def test_ihe_group_case_sends_one_ssa_item_per_order(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    second = {
        **ORDER,
        "study_instance_uid": "1.2.826.0.1.3680043.10.543.77.2",
        "requested_procedure_id": "RP-78",
        "scheduled_step_id": "SPS-78-1",
        "description": "CT abdomen",
        "step_description": "CT abdomen portal phase",
        "protocol_code_value": "ABD-CE",
        "protocol_code_meaning": "Abdomen contrast enhanced",
    }
    import_orders(modality, tmp_path, ORDER, second)
    start(modality, "--accession", "ACC-RAD6")
    (create,) = recorder.creates
    items = create.dataset.ScheduledStepAttributesSequence
    assert len(items) == 2
    by_study = {i.StudyInstanceUID: i for i in items}
    for order in (ORDER, second):
        ssa = by_study[order["study_instance_uid"]]
        assert ssa.AccessionNumber == "ACC-RAD6"
        assert ssa.RequestedProcedureID == order["requested_procedure_id"]
        assert ssa.RequestedProcedureDescription == order["description"]
        assert ssa.ScheduledProcedureStepID == order["scheduled_step_id"]
        assert ssa.ScheduledProcedureStepDescription == order["step_description"]
        assert (
            ssa.ReferencedStudySequence[0].ReferencedSOPInstanceUID == order["study_instance_uid"]
        )
        assert ssa.ScheduledProtocolCodeSequence[0].CodeValue == order["protocol_code_value"]
    assert create.dataset.PatientID == "PID-6"


# ------------------------------------------------------------------ N-SET COMPLETED


def references(series: Dataset) -> set[tuple[str, str]]:
    return {
        (r.ReferencedSOPClassUID, r.ReferencedSOPInstanceUID)
        for r in series.ReferencedImageSequence
    }


def test_complete_stores_images_then_lists_exactly_them(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    result = modality.ok("mpps", "complete", uid, "--to", "recorder", "--images", "2")
    assert result.stdout == f"{uid} COMPLETED: 1 series, 2 image(s)\n"
    assert "sending image 2/2" in result.stderr

    # The images went out first, carrying the step's attributes.
    assert len(recorder.stored) == 2
    create = recorder.creates[0].dataset
    for stored in recorder.stored:
        image = stored.dataset
        assert image.PatientID == "PID-6"
        assert image.StudyInstanceUID == ORDER["study_instance_uid"]
        assert image.AccessionNumber == "ACC-RAD6"
        assert image.ReferencedPerformedProcedureStepSequence[0].ReferencedSOPInstanceUID == uid
        assert image.PerformedProcedureStepID == create.PerformedProcedureStepID
    received = {(s.dataset.SOPClassUID, s.sop_instance_uid) for s in recorder.stored}
    (series_uid,) = {s.dataset.SeriesInstanceUID for s in recorder.stored}
    (protocol_name,) = {s.dataset.ProtocolName for s in recorder.stored}

    (n_set,) = recorder.sets
    assert n_set.sop_instance_uid == uid
    ds = n_set.dataset
    assert ds.PerformedProcedureStepStatus == "COMPLETED"
    assert close_to_now(ds.PerformedProcedureStepEndDate, ds.PerformedProcedureStepEndTime)
    (series,) = ds.PerformedSeriesSequence
    assert series.SeriesInstanceUID == series_uid
    assert series.ProtocolName == protocol_name
    assert series.OperatorsName == OPERATOR
    assert series.RetrieveAETitle == "RECORDER"
    assert references(series) == received
    assert len(series.ReferencedImageSequence) == 2
    assert "PerformingPhysicianName" in series
    assert "SeriesDescription" in series
    assert "ReferencedNonImageCompositeSOPInstanceSequence" in series

    step = step_json(modality, uid)
    assert step["status"] == "COMPLETED"
    assert step["direction"] == "sent"
    assert step["end"] is not None
    assert (step["series_count"], step["image_count"]) == (1, 2)
    shown = modality.step(uid)
    assert [(m["command"], m["status"]) for m in shown["messages"]] == [
        ("N-CREATE", "0x0000"),
        ("N-SET", "0x0000"),
    ]
    assert {(i["sop_class_uid"], i["sop_instance_uid"]) for i in shown["instances"]} == received
    assert {i["direction"] for i in shown["instances"]} == {"sent"}


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[DcmtkServer]:
    with storescp(tmp_path / "pacs") as server:
        yield server


@pytest.mark.dcmtk
def test_complete_references_what_dcmtk_storescp_received(
    modality: Modality, recorder: RecordingScp, pacs: DcmtkServer, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    modality.ok(
        "mpps",
        "complete",
        uid,
        "--to",
        "recorder",
        "--images",
        "3",
        "--store-to",
        f"{LOOPBACK}:{pacs.port}",
        "--store-aec",
        "PACS",
    )
    assert recorder.stored == []  # the images went to the PACS
    files = [pydicom.dcmread(p) for p in dataset_files(tmp_path / "pacs")]
    received = {(f.SOPClassUID, f.SOPInstanceUID) for f in files}
    assert len(received) == 3
    (series,) = recorder.sets[0].dataset.PerformedSeriesSequence
    assert references(series) == received
    assert series.RetrieveAETitle == "PACS"
    assert {f.SeriesInstanceUID for f in files} == {series.SeriesInstanceUID}


def test_images_sent_for_the_step_are_listed_by_complete(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    modality.ok("send-images", "--to", "recorder", "--mpps", uid, "--count", "2")
    assert len(recorder.stored) == 2
    assert {s.dataset.StudyInstanceUID for s in recorder.stored} == {ORDER["study_instance_uid"]}
    modality.ok("mpps", "complete", uid, "--to", "recorder", "--images", "0")
    assert len(recorder.stored) == 2  # nothing more was sent
    (series,) = recorder.sets[0].dataset.PerformedSeriesSequence
    assert references(series) == {
        (s.dataset.SOPClassUID, s.sop_instance_uid) for s in recorder.stored
    }
    assert series.SeriesInstanceUID == recorder.stored[0].dataset.SeriesInstanceUID


def test_a_finished_step_cannot_be_completed_again(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    modality.ok("mpps", "complete", uid, "--to", "recorder", "--images", "1")
    before = modality.steps()
    result = modality.run("mpps", "complete", uid, "--to", "recorder")
    result.assert_one_line_error(2, uid, "already COMPLETED")
    result = modality.run("mpps", "discontinue", uid, "--to", "recorder")
    result.assert_one_line_error(2, uid, "already COMPLETED")
    assert len(recorder.sets) == 1
    assert len(recorder.stored) == 1
    assert modality.steps() == before


# ------------------------------------------------------------------ N-SET DISCONTINUED


def test_discontinue_sends_the_cid_9300_reason(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    result = modality.ok("mpps", "discontinue", uid, "--to", "recorder", "--reason", "110501")
    assert result.stdout == f"{uid} DISCONTINUED: Equipment failure\n"

    (n_set,) = recorder.sets
    assert n_set.sop_instance_uid == uid
    ds = n_set.dataset
    assert ds.PerformedProcedureStepStatus == "DISCONTINUED"
    assert close_to_now(ds.PerformedProcedureStepEndDate, ds.PerformedProcedureStepEndTime)
    (reason,) = ds.PerformedProcedureStepDiscontinuationReasonCodeSequence
    assert reason.CodeValue == "110501"
    assert reason.CodingSchemeDesignator == "DCM"
    assert reason.CodeMeaning == "Equipment failure"
    assert present_and_empty(ds, "PerformedSeriesSequence")  # nothing was stored

    step = step_json(modality, uid)
    assert step["status"] == "DISCONTINUED"
    assert step["end"] is not None
    assert [(m["command"], m["status"]) for m in modality.step(uid)["messages"]] == [
        ("N-CREATE", "0x0000"),
        ("N-SET", "0x0000"),
    ]


def test_discontinue_default_reason_and_images_already_sent(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    modality.ok("send-images", "--to", "recorder", "--mpps", uid, "--count", "1")
    modality.ok("mpps", "discontinue", uid, "--to", "recorder")
    ds = recorder.sets[0].dataset
    assert ds.PerformedProcedureStepDiscontinuationReasonCodeSequence[0].CodeValue == "110513"
    (series,) = ds.PerformedSeriesSequence
    assert references(series) == {
        (recorder.stored[0].dataset.SOPClassUID, recorder.stored[0].sop_instance_uid)
    }


def test_unknown_reason_is_bad_input(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    uid = start(modality, "--accession", "ACC-RAD6")
    before = modality.steps()
    result = modality.run("mpps", "discontinue", uid, "--to", "recorder", "--reason", "999999")
    result.assert_one_line_error(2, "999999", "--reason list")
    assert recorder.sets == []
    assert modality.steps() == before


def test_reason_list_prints_the_codes(modality: Modality) -> None:
    out = modality.ok("mpps", "discontinue", "--reason", "list").stdout
    lines = out.splitlines()
    assert len(lines) == len(DISCONTINUATION_REASONS) == 17
    assert "110501  Equipment failure" in lines
    assert "110513  Discontinued for unspecified reason" in lines
    assert [line.split()[0] for line in lines] == [str(110500 + n) for n in range(17)]


def test_every_sent_step_is_listed(
    modality: Modality, recorder: RecordingScp, tmp_path: Path
) -> None:
    import_orders(modality, tmp_path, ORDER)
    completed = start(modality, "--accession", "ACC-RAD6")
    discontinued = start(modality, "--accession", "ACC-RAD6")
    running = start(
        modality, "--unscheduled", "--patient-name", "A^B", "--patient-id", "X", "--modality", "US"
    )
    modality.ok("mpps", "complete", completed, "--to", "recorder", "--images", "1")
    modality.ok("mpps", "discontinue", discontinued, "--to", "recorder")
    listed = {s["sop_instance_uid"]: s for s in modality.steps()}
    assert {uid: s["status"] for uid, s in listed.items()} == {
        completed: "COMPLETED",
        discontinued: "DISCONTINUED",
        running: "IN PROGRESS",
    }
    assert {s["direction"] for s in listed.values()} == {"sent"}
    only = modality.ok("steps", "list", "--status", "IN PROGRESS", "--json").json()
    assert [s["sop_instance_uid"] for s in only] == [running]
    # The table view shows them too.
    table = modality.ok("steps", "list").stdout
    for uid in (completed, discontinued, running):
        assert uid in table
