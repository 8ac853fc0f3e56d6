"""The worklist SCP answers from memory but never from a stale worklist."""

from __future__ import annotations

from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from mppsconsole.core.worklist import build_item
from mppsconsole.store import worklist
from mppsconsole.store.db import Database
from tests.conftest import RunningServer
from tests.network.conftest import add_worklist, associate, find_worklist, mwl_query


def _ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(str(ds.PatientID) for ds in found)


def test_changes_from_another_process_are_seen_at_the_next_query(scp: RunningServer) -> None:
    add_worklist(
        scp, {"patient_name": "A^A", "patient_id": "C1", "modality": "CT", "date": "20261122"}
    )
    assert _ids(find_worklist(scp, mwl_query())[0]) == ["C1"]
    other = Database(scp.db.path)  # the CLI beside a running SCP: its own connection
    try:
        with other.transaction() as conn:
            worklist.add_many(
                conn,
                [
                    build_item(
                        {
                            "patient_name": "B^B",
                            "patient_id": "C2",
                            "modality": "CT",
                            "date": "20261122",
                        }
                    )
                ],
            )
        assert _ids(find_worklist(scp, mwl_query())[0]) == ["C1", "C2"]
        with other.transaction() as conn:
            stored = worklist.list_items(conn)
            c1 = next(i for i in stored if i.patient_id == "C1")
            assert c1.id is not None
            worklist.update(
                conn,
                c1.id,
                build_item(
                    {
                        "patient_name": "A^Renamed",
                        "patient_id": "C1",
                        "modality": "CT",
                        "date": "20261122",
                    }
                ),
            )
            worklist.delete(conn, [i.id for i in stored if i.patient_id == "C2" and i.id])
    finally:
        other.close()
    found, status = find_worklist(scp, mwl_query(PatientName=""))
    assert status == 0x0000
    assert [(str(ds.PatientID), str(ds.PatientName)) for ds in found] == [("C1", "A^Renamed")]


def test_cached_responses_follow_the_requested_keys_and_transfer_syntax(
    scp: RunningServer,
) -> None:
    add_worklist(
        scp,
        {
            "patient_name": "Müller^Jürgen",
            "patient_id": "K1",
            "modality": "MR",
            "date": "20261122",
            "accession_number": "ACCK1",
        },
    )
    narrow = mwl_query()
    wide = mwl_query(AccessionNumber="", PatientBirthDate="", sps_ScheduledStationName="")
    for _ in range(2):  # the second round is served from the cache
        (first,), _ = find_worklist(scp, narrow)
        (second,), _ = find_worklist(scp, wide)
        assert "PatientBirthDate" not in first and "PatientBirthDate" in second
        assert second.AccessionNumber == "ACCK1"
        assert str(second.PatientName) == "Müller^Jürgen"
        assert "ScheduledStationName" in second.ScheduledProcedureStepSequence[0]
    with associate(scp, (ModalityWorklistInformationFind, [ImplicitVRLittleEndian])) as assoc:
        results = list(assoc.send_c_find(wide, ModalityWorklistInformationFind))
    identifiers = [ds for status, ds in results if status.Status == 0xFF00]
    assert [str(ds.PatientName) for ds in identifiers] == ["Müller^Jürgen"]
