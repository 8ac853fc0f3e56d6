"""MPPS SCP (DESIGN.md §3): each rule answered with its exact status and reflected in the store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid
from pynetdicom.dimse_messages import N_CREATE_RSP
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core import mpps
from mppsconsole.store.db import Database
from tests.conftest import RunningServer
from tests.network.conftest import (
    MODALITY_AE,
    CommandSets,
    add_worklist,
    completed_dataset,
    create_dataset,
    create_step,
    discontinued_dataset,
    find_worklist,
    mpps_association,
    mwl_query,
    performed_series,
    scheduled_item,
    settings,
    step_messages,
    stored_step,
    worklist_statuses,
)

MPPS = ModalityPerformedProcedureStep
#: A UID per PS3.5 9.1: numeric components, no leading zeros.
UID_SYNTAX = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the tests that only touch steps of their own fresh UIDs."""
    data_dir = tmp_path_factory.mktemp("mpps")
    db = Database(data_dir / "mppsconsole.sqlite3")
    server = RunningServer(db, settings(), data_dir / "images")
    try:
        yield server
    finally:
        server.stop()
        db.close()


#: Type 1 attributes the default (lenient) profile refuses when missing or empty; it fills
#: an empty Performed Station AE Title from the calling AE (tests/network/test_profiles.py).
REFUSED_TYPE1 = [k for k in mpps.CREATE_TYPE1 if k != "PerformedStationAETitle"]


def _n_set(scp: RunningServer, uid: str, mods: Dataset) -> Dataset:
    with mpps_association(scp) as assoc:
        status, _ = assoc.send_n_set(mods, MPPS, uid)
    assert status, "no N-SET response"
    return status


def _n_create(scp: RunningServer, ds: Dataset, uid: str | None) -> Dataset:
    with mpps_association(scp) as assoc:
        status, _ = assoc.send_n_create(ds, MPPS, uid)
    assert status, "no N-CREATE response"
    return status


def _new_step(scp: RunningServer, ds: Dataset | None = None) -> str:
    with mpps_association(scp) as assoc:
        return create_step(assoc, ds)


# N-CREATE


def test_create_in_progress_is_stored_with_summary_and_history(shared: RunningServer) -> None:
    study = generate_uid()
    ds = create_dataset(
        scheduled=[scheduled_item(study, "SPS7", "ACC7", "RP7")],
        patient_name="Müller^Jürgen",
        patient_id="PID7",
        modality="MR",
    )
    uid = generate_uid()
    status = _n_create(shared, ds, uid)
    assert status.Status == 0x0000
    assert "ErrorComment" not in status

    stored = stored_step(shared, uid)
    assert stored is not None
    summary = stored.summary
    assert summary.status == "IN PROGRESS"
    assert summary.direction == "received"
    assert summary.patient_name == "Müller^Jürgen"
    assert summary.patient_id == "PID7"
    assert summary.accession_number == "ACC7"
    assert summary.modality == "MR"
    assert summary.station_ae == MODALITY_AE
    assert summary.study_instance_uid == study
    assert summary.calling_ae == MODALITY_AE
    assert summary.start is not None and summary.start.isoformat() == "2026-11-21T09:30:00"
    assert summary.end is None
    stored_ds = Dataset.from_json(stored.dataset_json)
    assert stored_ds.PerformedProcedureStepID == "PPS1"
    assert stored_ds.ScheduledStepAttributesSequence[0].ScheduledProcedureStepID == "SPS7"

    (message,) = step_messages(shared, uid)
    assert (message.command, message.status, message.direction) == ("N-CREATE", 0x0000, "received")
    assert message.calling_ae == MODALITY_AE
    assert message.peer.startswith("127.0.0.1:")
    assert Dataset.from_json(message.dataset_json).PatientID == "PID7"


def test_create_without_affected_uid_gets_one_assigned(
    shared: RunningServer, command_sets: CommandSets
) -> None:
    with mpps_association(shared, evt_handlers=[command_sets.handler]) as assoc:
        status, attrs = assoc.send_n_create(create_dataset(), MPPS)
    assert status.Status == 0x0000
    (rsp,) = command_sets.of(N_CREATE_RSP)
    assigned = str(rsp.AffectedSOPInstanceUID)
    assert UID_SYNTAX.match(assigned) and len(assigned) <= 64, assigned
    # The UID belongs in the command set, not in the returned attribute list.
    assert attrs is None or "AffectedSOPInstanceUID" not in attrs
    stored = stored_step(shared, assigned)
    assert stored is not None and stored.summary.status == "IN PROGRESS"
    assert [m.command for m in step_messages(shared, assigned)] == ["N-CREATE"]


def test_create_with_affected_uid_echoes_it(
    shared: RunningServer, command_sets: CommandSets
) -> None:
    uid = generate_uid()
    with mpps_association(shared, evt_handlers=[command_sets.handler]) as assoc:
        status, _ = assoc.send_n_create(create_dataset(), MPPS, uid)
    assert status.Status == 0x0000
    (rsp,) = command_sets.of(N_CREATE_RSP)
    assert rsp.AffectedSOPInstanceUID == uid


@pytest.mark.parametrize("bad_status", ["COMPLETED", "DISCONTINUED", "SCHEDULED"])
def test_create_with_status_other_than_in_progress_is_refused(
    shared: RunningServer, bad_status: str
) -> None:
    uid = generate_uid()
    status = _n_create(shared, create_dataset(status=bad_status), uid)
    assert status.Status == 0x0106
    assert "PerformedProcedureStepStatus" in status.ErrorComment
    assert stored_step(shared, uid) is None
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [("N-CREATE", 0x0106)]


def test_duplicate_create_is_refused_and_first_step_kept(shared: RunningServer) -> None:
    uid = generate_uid()
    with mpps_association(shared) as assoc:
        create_step(assoc, create_dataset(patient_name="First^Patient"), uid)
        status, _ = assoc.send_n_create(create_dataset(patient_name="Second^Patient"), MPPS, uid)
    assert status.Status == 0x0111
    assert "ErrorComment" in status
    stored = stored_step(shared, uid)
    assert stored is not None and stored.summary.patient_name == "First^Patient"
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [
        ("N-CREATE", 0x0000),
        ("N-CREATE", 0x0111),
    ]


@pytest.mark.parametrize("keyword", REFUSED_TYPE1)
def test_create_missing_type1_attribute_is_refused_0120(
    shared: RunningServer, keyword: str
) -> None:
    ds = create_dataset()
    delattr(ds, keyword)
    uid = generate_uid()
    status = _n_create(shared, ds, uid)
    assert status.Status == 0x0120
    assert keyword in status.ErrorComment
    assert stored_step(shared, uid) is None
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [("N-CREATE", 0x0120)]


@pytest.mark.parametrize("keyword", REFUSED_TYPE1)
def test_create_empty_type1_attribute_is_refused_0121(shared: RunningServer, keyword: str) -> None:
    ds = create_dataset()
    if keyword.endswith("Sequence"):
        setattr(ds, keyword, DicomSequence())
    else:
        setattr(ds, keyword, "")
    uid = generate_uid()
    status = _n_create(shared, ds, uid)
    assert status.Status == 0x0121
    assert keyword in status.ErrorComment
    assert stored_step(shared, uid) is None
    assert [m.status for m in step_messages(shared, uid)] == [0x0121]


def test_create_missing_study_uid_in_scheduled_step_is_refused(shared: RunningServer) -> None:
    ds = create_dataset()
    del ds.ScheduledStepAttributesSequence[0].StudyInstanceUID
    uid = generate_uid()
    status = _n_create(shared, ds, uid)
    assert status.Status == 0x0120
    assert "StudyInstanceUID" in status.ErrorComment
    assert stored_step(shared, uid) is None


# N-SET


def test_set_of_unknown_instance_is_refused_0112(shared: RunningServer) -> None:
    uid = generate_uid()
    status = _n_set(shared, uid, completed_dataset())
    assert status.Status == 0x0112
    assert stored_step(shared, uid) is None
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [("N-SET", 0x0112)]


@pytest.mark.parametrize(
    ("final", "expected"),
    [(completed_dataset, "COMPLETED"), (discontinued_dataset, "DISCONTINUED")],
)
def test_set_after_final_state_is_refused_0110_a710(
    shared: RunningServer, final: Callable[[], Dataset], expected: str
) -> None:
    uid = _new_step(shared)
    assert _n_set(shared, uid, final()).Status == 0x0000
    before = stored_step(shared, uid)
    assert before is not None and before.summary.status == expected

    for mods in (completed_dataset(), discontinued_dataset(), _description("late change")):
        status = _n_set(shared, uid, mods)
        assert status.Status == 0x0110
        assert status.ErrorID == 0xA710
        assert status.ErrorComment == "Performed Procedure Step Object may no longer be updated"
    assert stored_step(shared, uid) == before
    assert [m.status for m in step_messages(shared, uid)] == [0, 0, 0x0110, 0x0110, 0x0110]


def _description(text: str) -> Dataset:
    ds = Dataset()
    ds.PerformedProcedureStepDescription = text
    return ds


@pytest.mark.parametrize("keyword", ["PatientName", "Modality", "PerformedStationAETitle"])
def test_set_of_create_only_attribute_is_refused_0106(shared: RunningServer, keyword: str) -> None:
    uid = _new_step(shared)
    before = stored_step(shared, uid)
    mods = _description("changed")
    setattr(mods, keyword, "Other^Value" if keyword == "PatientName" else "MR")
    status = _n_set(shared, uid, mods)
    assert status.Status == 0x0106
    assert keyword in status.ErrorComment
    assert stored_step(shared, uid) == before


@pytest.mark.parametrize("bad_status", ["SCHEDULED", "ABORTED", "DONE"])
def test_set_to_an_unknown_status_is_refused_0106(shared: RunningServer, bad_status: str) -> None:
    uid = _new_step(shared)
    before = stored_step(shared, uid)
    mods = completed_dataset()
    mods.PerformedProcedureStepStatus = bad_status
    status = _n_set(shared, uid, mods)
    assert status.Status == 0x0106
    assert "PerformedProcedureStepStatus" in status.ErrorComment
    assert stored_step(shared, uid) == before


def test_set_of_attribute_outside_mpps_is_refused_0105(shared: RunningServer) -> None:
    uid = _new_step(shared)
    before = stored_step(shared, uid)
    mods = _description("changed")
    mods.StudyDescription = "not an MPPS attribute"
    status = _n_set(shared, uid, mods)
    assert status.Status == 0x0105
    assert "StudyDescription" in status.ErrorComment
    assert stored_step(shared, uid) == before


def _without(ds: Dataset, keyword: str) -> Dataset:
    delattr(ds, keyword)
    return ds


def _emptied(ds: Dataset, keyword: str) -> Dataset:
    setattr(ds, keyword, DicomSequence() if keyword.endswith("Sequence") else "")
    return ds


@pytest.mark.parametrize(
    ("mods", "expected", "named"),
    [
        # The N-CREATE stored the Type 2 end date/time and series empty: present, no value.
        (lambda: _without(completed_dataset(), "PerformedProcedureStepEndDate"), 0x0121, "EndDate"),
        (lambda: _without(completed_dataset(), "PerformedProcedureStepEndTime"), 0x0121, "EndTime"),
        (lambda: _emptied(completed_dataset(), "PerformedProcedureStepEndDate"), 0x0121, "EndDate"),
        (lambda: _emptied(completed_dataset(), "PerformedProcedureStepEndTime"), 0x0121, "EndTime"),
        (
            lambda: _without(completed_dataset(), "PerformedSeriesSequence"),
            0x0121,
            "PerformedSeriesSequence",
        ),
        (
            lambda: _emptied(completed_dataset(), "PerformedSeriesSequence"),
            0x0121,
            "PerformedSeriesSequence",
        ),
        (
            lambda: _without(discontinued_dataset(), "PerformedProcedureStepEndDate"),
            0x0121,
            "EndDate",
        ),
    ],
    ids=[
        "no-end-date",
        "no-end-time",
        "empty-end-date",
        "empty-end-time",
        "no-series",
        "empty-series",
        "discontinued-no-end-date",
    ],
)
def test_final_state_without_its_attributes_is_refused(
    shared: RunningServer,
    mods: Callable[[], Dataset],
    expected: int,
    named: str,
) -> None:
    uid = _new_step(shared)
    before = stored_step(shared, uid)
    status = _n_set(shared, uid, mods())
    assert status.Status == expected
    assert named in status.ErrorComment
    after = stored_step(shared, uid)
    assert after == before
    assert after is not None and after.summary.status == "IN PROGRESS"


@pytest.mark.parametrize(
    ("final", "missing"),
    [
        (completed_dataset, "PerformedProcedureStepEndDate"),
        (completed_dataset, "PerformedProcedureStepEndTime"),
        (completed_dataset, "PerformedSeriesSequence"),
        (discontinued_dataset, "PerformedProcedureStepEndDate"),
        (discontinued_dataset, "PerformedProcedureStepEndTime"),
    ],
)
def test_final_state_missing_attribute_never_given_is_refused_0120(
    shared: RunningServer,
    final: Callable[[], Dataset],
    missing: str,
) -> None:
    ds = create_dataset()
    # Type 2 at N-CREATE, but some modalities leave them out altogether.
    for keyword in (
        "PerformedProcedureStepEndDate",
        "PerformedProcedureStepEndTime",
        "PerformedSeriesSequence",
    ):
        delattr(ds, keyword)
    uid = _new_step(shared, ds)
    before = stored_step(shared, uid)
    mods = final()
    if missing in mods:
        delattr(mods, missing)
    status = _n_set(shared, uid, mods)
    assert status.Status == 0x0120
    assert missing in status.ErrorComment
    after = stored_step(shared, uid)
    assert after == before
    assert after is not None and after.summary.status == "IN PROGRESS"


def test_completed_series_without_its_type1_is_refused(shared: RunningServer) -> None:
    uid = _new_step(shared)
    series = performed_series()
    del series.ProtocolName
    status = _n_set(shared, uid, completed_dataset([series]))
    assert status.Status == 0x0120
    assert "ProtocolName" in status.ErrorComment
    stored = stored_step(shared, uid)
    assert stored is not None and stored.summary.status == "IN PROGRESS"


def test_intermediate_set_staying_in_progress_is_accepted(shared: RunningServer) -> None:
    uid = _new_step(shared)
    series = performed_series(image_uids=[generate_uid(), generate_uid()])
    mods = _description("CT HEAD WITH CONTRAST")
    mods.PerformedSeriesSequence = DicomSequence([series])
    status = _n_set(shared, uid, mods)
    assert status.Status == 0x0000

    explicit = _description("CT HEAD AND NECK")
    explicit.PerformedProcedureStepStatus = "IN PROGRESS"
    assert _n_set(shared, uid, explicit).Status == 0x0000

    stored = stored_step(shared, uid)
    assert stored is not None
    assert stored.summary.status == "IN PROGRESS"
    assert stored.summary.description == "CT HEAD AND NECK"
    assert (stored.summary.series_count, stored.summary.image_count) == (1, 2)
    # The step can still be completed afterwards.
    assert _n_set(shared, uid, completed_dataset()).Status == 0x0000
    assert [m.status for m in step_messages(shared, uid)] == [0, 0, 0, 0]


def test_complete_stores_final_state(shared: RunningServer) -> None:
    uid = _new_step(shared)
    images = [generate_uid() for _ in range(3)]
    status = _n_set(shared, uid, completed_dataset([performed_series(image_uids=images)]))
    assert status.Status == 0x0000
    stored = stored_step(shared, uid)
    assert stored is not None
    assert stored.summary.status == "COMPLETED"
    assert (
        stored.summary.end is not None and stored.summary.end.isoformat() == "2026-11-21T09:45:00"
    )
    assert (stored.summary.series_count, stored.summary.image_count) == (1, 3)
    stored_ds = Dataset.from_json(stored.dataset_json)
    refs = stored_ds.PerformedSeriesSequence[0].ReferencedImageSequence
    assert [r.ReferencedSOPInstanceUID for r in refs] == images
    assert stored_ds.PatientName == "Doe^Jane"  # N-CREATE attributes kept


def test_discontinued_with_reason_code_is_accepted(shared: RunningServer) -> None:
    uid = _new_step(shared)
    status = _n_set(
        shared, uid, discontinued_dataset("110513", "Discontinued for unspecified reason")
    )
    assert status.Status == 0x0000
    stored = stored_step(shared, uid)
    assert stored is not None and stored.summary.status == "DISCONTINUED"
    reason = Dataset.from_json(
        stored.dataset_json
    ).PerformedProcedureStepDiscontinuationReasonCodeSequence[0]
    assert (reason.CodeValue, reason.CodingSchemeDesignator) == ("110513", "DCM")


# N-GET


def test_get_returns_requested_attributes(shared: RunningServer) -> None:
    uid = _new_step(shared, create_dataset(patient_name="Get^Me", modality="MR"))
    wanted = [0x00100010, 0x00400252, 0x00080060, 0x00400253]
    with mpps_association(shared) as assoc:
        status, attrs = assoc.send_n_get(wanted, MPPS, uid)
    assert status.Status == 0x0000
    assert attrs is not None
    assert attrs.PatientName == "Get^Me"
    assert attrs.PerformedProcedureStepStatus == "IN PROGRESS"
    assert attrs.Modality == "MR"
    assert attrs.PerformedProcedureStepID == "PPS1"
    assert "PatientID" not in attrs  # not asked for
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [
        ("N-CREATE", 0x0000),
        ("N-GET", 0x0000),
    ]


def test_get_after_completion_sees_final_state(shared: RunningServer) -> None:
    uid = _new_step(shared)
    assert _n_set(shared, uid, completed_dataset()).Status == 0x0000
    with mpps_association(shared) as assoc:
        status, attrs = assoc.send_n_get([0x00400252, 0x00400250], MPPS, uid)
    assert status.Status == 0x0000
    assert attrs.PerformedProcedureStepStatus == "COMPLETED"
    assert attrs.PerformedProcedureStepEndDate == "20261121"


def test_get_of_unknown_instance_is_refused_0112(shared: RunningServer) -> None:
    uid = generate_uid()
    with mpps_association(shared) as assoc:
        status, attrs = assoc.send_n_get([0x00100010, 0x00100020], MPPS, uid)
    assert status.Status == 0x0112
    assert attrs is None
    assert [(m.command, m.status) for m in step_messages(shared, uid)] == [("N-GET", 0x0112)]


# History


def test_every_message_is_kept_in_history_with_its_status(shared: RunningServer) -> None:
    uid = generate_uid()
    patient = _description("x")
    patient.PatientName = "Changed^Name"
    with mpps_association(shared) as assoc:
        sent = [
            ("N-CREATE", assoc.send_n_create(create_dataset(), MPPS, uid)[0]),
            ("N-CREATE", assoc.send_n_create(create_dataset(), MPPS, uid)[0]),
            ("N-SET", assoc.send_n_set(patient, MPPS, uid)[0]),
            ("N-SET", assoc.send_n_set(_description("y"), MPPS, uid)[0]),
            (
                "N-SET",
                assoc.send_n_set(
                    _without(completed_dataset(), "PerformedProcedureStepEndTime"), MPPS, uid
                )[0],
            ),
            ("N-SET", assoc.send_n_set(completed_dataset(), MPPS, uid)[0]),
            ("N-SET", assoc.send_n_set(discontinued_dataset(), MPPS, uid)[0]),
            ("N-GET", assoc.send_n_get([0x00400252, 0x00400253], MPPS, uid)[0]),
        ]
    statuses = [int(s.Status) for _, s in sent]
    assert statuses == [0x0000, 0x0111, 0x0106, 0x0000, 0x0121, 0x0000, 0x0110, 0x0000]
    history = step_messages(shared, uid)
    assert [(m.command, m.status) for m in history] == [
        (command, int(s.Status)) for command, s in sent
    ]
    assert all(m.calling_ae == MODALITY_AE and m.direction == "received" for m in history)
    refused = [m for m in history if m.status != 0]
    assert all(m.error_comment for m in refused)
    assert "PatientName" in refused[1].error_comment
    # The dataset of each N-CREATE / N-SET is kept, refused ones included.
    assert Dataset.from_json(history[2].dataset_json).PatientName == "Changed^Name"
    assert Dataset.from_json(history[5].dataset_json).PerformedProcedureStepStatus == "COMPLETED"
    times = [m.time for m in history]
    assert times == sorted(times)


# Worklist loop closing


def _worklist_of_three(scp: RunningServer, study: str) -> None:
    add_worklist(
        scp,
        {
            "patient_name": "Loop^One",
            "patient_id": "L1",
            "modality": "CT",
            "date": "20261121",
            "time": "0900",
            "accession_number": "ACC-L1",
            "study_instance_uid": study,
            "requested_procedure_id": "RP-L1",
            "scheduled_step_id": "SPS-L1a",
        },
        {
            "patient_name": "Loop^One",
            "patient_id": "L1",
            "modality": "CT",
            "date": "20261121",
            "time": "0915",
            "accession_number": "ACC-L1",
            "study_instance_uid": study,
            "requested_procedure_id": "RP-L1",
            "scheduled_step_id": "SPS-L1b",
        },
        {
            "patient_name": "Other^Patient",
            "patient_id": "L2",
            "modality": "MR",
            "date": "20261121",
            "time": "1000",
            "accession_number": "ACC-L2",
            "scheduled_step_id": "SPS-L2",
        },
    )


@pytest.mark.parametrize(
    ("final", "expected"),
    [(completed_dataset, "COMPLETED"), (discontinued_dataset, "DISCONTINUED")],
)
def test_worklist_item_follows_step_by_study_and_step_id(
    scp: RunningServer, final: Callable[[], Dataset], expected: str
) -> None:
    study = generate_uid()
    _worklist_of_three(scp, study)
    uid = _new_step(scp, create_dataset(scheduled=[scheduled_item(study, "SPS-L1a", "ACC-L1")]))
    assert worklist_statuses(scp) == {
        "SPS-L1a": "STARTED",
        "SPS-L1b": "SCHEDULED",
        "SPS-L2": "SCHEDULED",
    }
    assert _n_set(scp, uid, _description("intermediate")).Status == 0x0000
    assert worklist_statuses(scp)["SPS-L1a"] == "STARTED"
    assert _n_set(scp, uid, final()).Status == 0x0000
    assert worklist_statuses(scp) == {
        "SPS-L1a": expected,
        "SPS-L1b": "SCHEDULED",
        "SPS-L2": "SCHEDULED",
    }


def test_worklist_item_follows_step_by_accession_only(scp: RunningServer) -> None:
    study = generate_uid()
    _worklist_of_three(scp, study)
    # A modality that generated its own Study Instance UID and carries no step ID.
    reference = scheduled_item(generate_uid(), "", "ACC-L2")
    uid = _new_step(scp, create_dataset(scheduled=[reference]))
    assert worklist_statuses(scp) == {
        "SPS-L1a": "SCHEDULED",
        "SPS-L1b": "SCHEDULED",
        "SPS-L2": "STARTED",
    }
    assert _n_set(scp, uid, completed_dataset()).Status == 0x0000
    assert worklist_statuses(scp)["SPS-L2"] == "COMPLETED"


@pytest.mark.parametrize(
    ("final", "expected"),
    [(completed_dataset, "COMPLETED"), (discontinued_dataset, "DISCONTINUED")],
)
def test_ihe_group_case_moves_every_referenced_item(
    scp: RunningServer, final: Callable[[], Dataset], expected: str
) -> None:
    study = generate_uid()
    _worklist_of_three(scp, study)
    group = [
        scheduled_item(study, "SPS-L1a", "ACC-L1", "RP-L1"),
        scheduled_item(study, "SPS-L1b", "ACC-L1", "RP-L1"),
    ]
    uid = _new_step(scp, create_dataset(scheduled=group))
    assert worklist_statuses(scp) == {
        "SPS-L1a": "STARTED",
        "SPS-L1b": "STARTED",
        "SPS-L2": "SCHEDULED",
    }
    assert _n_set(scp, uid, final()).Status == 0x0000
    assert worklist_statuses(scp) == {
        "SPS-L1a": expected,
        "SPS-L1b": expected,
        "SPS-L2": "SCHEDULED",
    }


def test_refused_messages_leave_the_worklist_alone(scp: RunningServer) -> None:
    study = generate_uid()
    _worklist_of_three(scp, study)
    reference = [scheduled_item(study, "SPS-L1a", "ACC-L1")]
    status = _n_create(scp, create_dataset(scheduled=reference, status="COMPLETED"), None)
    assert status.Status == 0x0106
    assert set(worklist_statuses(scp).values()) == {"SCHEDULED"}
    uid = _new_step(scp, create_dataset(scheduled=reference))
    assert _n_set(scp, uid, _without(completed_dataset(), "PerformedSeriesSequence")).Status != 0
    assert worklist_statuses(scp)["SPS-L1a"] == "STARTED"


@pytest.mark.parametrize(
    "scp_settings",
    [settings(hide_finished_worklist=True), settings(hide_finished_worklist=False)],
    ids=["hide-finished", "show-finished"],
)
def test_finished_item_hidden_from_worklist_query_when_configured(scp: RunningServer) -> None:
    hide = scp.settings.hide_finished_worklist
    study = generate_uid()
    _worklist_of_three(scp, study)
    started = _new_step(scp, create_dataset(scheduled=[scheduled_item(study, "SPS-L1b")]))
    done = _new_step(scp, create_dataset(scheduled=[scheduled_item(study, "SPS-L1a")]))
    assert _n_set(scp, done, completed_dataset()).Status == 0x0000
    assert stored_step(scp, started) is not None

    found, final = find_worklist(scp, mwl_query())
    assert final == 0x0000
    shown = {ds.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID: ds for ds in found}
    assert set(shown) == {"SPS-L1b", "SPS-L2"} | (set() if hide else {"SPS-L1a"})
    started_sps = shown["SPS-L1b"].ScheduledProcedureStepSequence[0]
    assert started_sps.ScheduledProcedureStepStatus == "STARTED"
