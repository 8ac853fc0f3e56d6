"""The audit trail and patient data care, over real loopback associations with our SCP."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator

import pydicom.config
import pytest
from pydicom.uid import CTImageStorage
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    Verification,
)

from mppsconsole.core import audit
from mppsconsole.core.audit import AuditRecord
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.settings import Node
from mppsconsole.core.worklist import build_item
from mppsconsole.net import modality
from mppsconsole.net.mwl_scu import query_worklist
from mppsconsole.net.workstation import Workstation
from mppsconsole.store import audit as audit_store
from mppsconsole.store import worklist
from mppsconsole.store.audit import AuditLog
from tests.conftest import LOOPBACK, RunningServer
from tests.network.conftest import (
    MODALITY_AE,
    TIMEOUT,
    associate,
    create_dataset,
    ct_image,
    mwl_query,
)


@pytest.fixture
def trail(scp: RunningServer) -> Iterator[AuditLog]:
    log = AuditLog(scp.db, interval=0.01)
    scp.server.events.subscribe(log.on_event)
    yield log
    log.close()


def records(scp: RunningServer, trail: AuditLog) -> list[AuditRecord]:
    """The trail after a clean stop: server first, then the writer."""
    scp.stop()
    trail.close()
    with scp.db.reading() as conn:
        return list(audit_store.query(conn))


def test_associations_and_messages_are_audited_with_who_what_and_outcome(
    scp: RunningServer, trail: AuditLog
) -> None:
    image = ct_image()
    with associate(
        scp,
        Verification,
        ModalityPerformedProcedureStep,
        ModalityWorklistInformationFind,
        CTImageStorage,
    ) as assoc:
        assert assoc.send_c_echo().Status == 0
        status, _ = assoc.send_n_create(
            create_dataset(patient_name="Audit^Alice", patient_id="AUD-1"),
            ModalityPerformedProcedureStep,
            "1.2.826.0.1.3680043.10.99.1",
        )
        assert status.Status == 0
        refused, _ = assoc.send_n_create(
            create_dataset(status="COMPLETED"),
            ModalityPerformedProcedureStep,
            "1.2.826.0.1.3680043.10.99.2",
        )
        assert refused.Status == 0x0106
        list(assoc.send_c_find(mwl_query(PatientName="Audit*"), ModalityWorklistInformationFind))
        assert assoc.send_c_store(image).Status == 0
        local_port = assoc.local["port"]
    intruder = AE(ae_title="INTRUDER")
    intruder.acse_timeout = intruder.network_timeout = TIMEOUT
    intruder.add_requested_context(Verification)
    rejected = intruder.associate(LOOPBACK, scp.port, ae_title="NOT-US")
    assert rejected.is_rejected
    intruder.shutdown()

    trail_records = records(scp, trail)
    peer = f"{MODALITY_AE}@127.0.0.1:{local_port}"
    mine = [r for r in trail_records if r.who == peer]
    by_command = {(r.command, r.status): r for r in mine}
    assert [r.command for r in mine] == [
        "ASSOCIATE",
        "C-ECHO",
        "N-CREATE",
        "N-CREATE",
        "C-FIND",
        "C-STORE",
        "RELEASE",
    ]
    assert all(r.who_kind == "peer" and r.peer == peer for r in mine)
    created = by_command["N-CREATE", "0x0000"]
    assert (created.event, created.action, created.outcome) == (audit.PROCEDURE_RECORD, "C", 0)
    assert created.instance_uid == "1.2.826.0.1.3680043.10.99.1"
    assert (created.patient_id, created.patient_name, created.accession) == (
        "AUD-1",
        "Audit^Alice",
        "ACC1",
    )
    assert created.sop_class == ModalityPerformedProcedureStep
    assert by_command["N-CREATE", "0x0106"].outcome == audit.MINOR_FAILURE
    query = by_command["C-FIND", "0xFF00"]
    assert (query.event, query.patient_name) == (audit.QUERY, "Audit*")
    stored = by_command["C-STORE", "0x0000"]
    assert stored.event == audit.INSTANCES_TRANSFERRED
    assert (stored.sop_class, stored.instance_uid) == (CTImageStorage, image.SOPInstanceUID)
    assert (stored.patient_id, stored.patient_name, stored.accession) == (
        "PST",
        "Store^Test",
        "ACC-ST",
    )
    assert by_command["C-ECHO", "0x0000"].event == audit.APPLICATION_ACTIVITY
    alerts = [r for r in trail_records if r.event == audit.SECURITY_ALERT]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.who.startswith("INTRUDER@127.0.0.1:") and alert.who_kind == "peer"
    assert alert.outcome == audit.MINOR_FAILURE
    assert alert.status.startswith("rejected") and "NOT-US" in alert.detail


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_received_images_and_their_folders_are_private(scp: RunningServer) -> None:
    old = os.umask(0o022)  # a permissive umask: the modes must not depend on it
    try:
        image = ct_image()
        with associate(scp, CTImageStorage) as assoc:
            assert assoc.send_c_store(image).Status == 0
    finally:
        os.umask(old)
    path = scp.images_dir / image.StudyInstanceUID / image.SeriesInstanceUID
    path = path / f"{image.SOPInstanceUID}.dcm"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, scp.images_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


PATIENT = {
    "patient_name": "Quixote^Dulcinea",
    "patient_id": "PID-84213",
    "birth_date": "19610317",
    "accession_number": "ACC-55821",
    "modality": "CT",
}


def test_info_logs_carry_no_patient_identifiers(
    scp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A full step, a worklist query and an image store with INFO logging captured."""
    caplog.set_level(logging.INFO)
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)  # as app.setup_logging does
    item = build_item({**PATIENT, "date": "20261122", "time": "0900"})
    with scp.db.transaction() as conn:
        worklist.add_many(conn, [item])
    node = Node("self", scp.ae_title, LOOPBACK, scp.port)
    station = Workstation(MODALITY_AE, "CT01", "Radiology 1", "Tech^Tina", None)
    found = query_worklist(MODALITY_AE, node, WorklistQuery(patient_id=PATIENT["patient_id"]))
    assert [i.accession_number for i in found.items] == [PATIENT["accession_number"]]
    step = modality.start_step(scp.db, station, node, accession=PATIENT["accession_number"])
    modality.send_images(scp.db, station, node, count=1, mpps_uid=step.sop_instance_uid)
    done = modality.complete_step(scp.db, station, node, step.sop_instance_uid, image_count=2)
    assert done.status == "COMPLETED" and done.image_count == 3  # 1 sent before + 2

    logged = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.INFO
        and (r.name.startswith("mppsconsole") or r.levelno >= logging.WARNING)
    ]
    assert any(step.sop_instance_uid in text for text in logged)  # the log did talk
    identifiers = [v for k, v in PATIENT.items() if k != "modality"]
    identifiers += PATIENT["patient_name"].split("^")
    leaks = [(i, text) for text in logged for i in identifiers if i in text]
    assert not leaks


def test_a_refused_c_store_is_audited_with_its_failure(
    scp: RunningServer, trail: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydicom warns about the UID we mean to send (and the SCP about the one it reads).
    monkeypatch.setattr(pydicom.config.settings, "reading_validation_mode", pydicom.config.IGNORE)
    monkeypatch.setattr(pydicom.config.settings, "writing_validation_mode", pydicom.config.IGNORE)
    image = ct_image()
    image.SeriesInstanceUID = "1..2"
    with associate(scp, CTImageStorage) as assoc:
        status = assoc.send_c_store(image)
    assert status.Status == 0xC000
    refused = [r for r in records(scp, trail) if r.command == "C-STORE"]
    assert len(refused) == 1
    assert (refused[0].status, refused[0].outcome) == ("0xC000", audit.SERIOUS_FAILURE)
    assert refused[0].instance_uid == image.SOPInstanceUID and "Series" in refused[0].detail
