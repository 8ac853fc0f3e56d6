"""Modality Worklist SCP (DESIGN.md §3): matching per PS3.4 C.2.2.2 and filled return keys.

Queried by DCMTK findscu (an independent peer) and by a pynetdicom SCU.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from mppsconsole.core.worklist import WorklistItem
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env
from tests.network.conftest import (
    TIMEOUT,
    add_worklist,
    associate,
    find_worklist,
    mwl_query,
    settings,
)

#: name, patient ID, modality, station, date, time, accession
ROWS = [
    ("Doe^John", "P001", "CT", "CT01", "20261121", "0800", "A001"),
    ("Doe^Jane", "P002", "MR", "MR01", "20261121", "1030", "A002"),
    ("Müller^Jürgen", "P003", "CT", "CT02", "20261122", "1415", "A003"),
    ("Smith^Anna", "P004", "US", "US01", "20261120", "0945", "A004"),
    ("DOERING^MAX", "P005", "CT", "CT01", "20261121", "1600", "A005"),
    ("Ødegård^Åse", "Q006", "MR", "MR01", "20261123", "2330", "B006"),
]


@pytest.fixture(scope="module")
def worklist_scp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server with the worklist of ROWS for the read-only matching tests of this module."""
    data_dir = tmp_path_factory.mktemp("mwl")
    db = Database(data_dir / "mppsconsole.sqlite3")
    server = RunningServer(db, settings(), data_dir / "images")
    try:
        yield server
    finally:
        server.stop()
        db.close()


@pytest.fixture(scope="module")
def items(worklist_scp: RunningServer) -> list[WorklistItem]:
    return add_worklist(
        worklist_scp,
        *(
            {
                "patient_name": name,
                "patient_id": pid,
                "modality": modality,
                "scheduled_station_ae": station,
                "date": date,
                "time": time,
                "accession_number": accession,
                "birth_date": "19800101",
                "sex": "M" if pid in ("P001", "P003", "P005") else "F",
                "description": f"{modality} exam of {pid}",
                "referring_physician": "Ref^Doc",
                "scheduled_step_id": f"SPS-{pid}",
                "requested_procedure_id": f"RP-{pid}",
            }
            for name, pid, modality, station, date, time, accession in ROWS
        ),
    )


def _run_findscu(
    scp: RunningServer, out: Path, *keys: str, extra: tuple[str, ...] = ()
) -> tuple[list[Dataset], str]:
    """Run DCMTK findscu -W -v with ``-k`` keys: (extracted response identifiers, its log)."""
    out.mkdir(parents=True, exist_ok=True)
    args = [dcmtk("findscu"), "-v", "-W", "-aet", "FINDSCU", "-aec", scp.ae_title]
    args += ["-to", str(TIMEOUT), "-ta", str(TIMEOUT), "-td", str(TIMEOUT)]
    args += ["-X", "-od", str(out), *extra]
    for key in keys:
        args += ["-k", key]
    result = subprocess.run(
        [*args, LOOPBACK, str(scp.port)],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return [pydicom.dcmread(path) for path in sorted(out.glob("rsp*.dcm"))], log


def _findscu(scp: RunningServer, out: Path, *keys: str) -> list[Dataset]:
    """The response identifiers of a successful DCMTK findscu -W query."""
    found, log = _run_findscu(scp, out, *keys)
    assert "Received Final Find Response (Success)" in log, log
    return found


#: The return keys every DCMTK query asks for (empty: universal matching).
RETURN_KEYS = (
    "(0008,0005)=ISO_IR 192",
    "(0010,0010)",
    "(0010,0020)",
    "(0008,0050)",
    "(0020,000D)",
    "(0040,0100)[0].(0008,0060)",
    "(0040,0100)[0].(0040,0001)",
    "(0040,0100)[0].(0040,0002)",
    "(0040,0100)[0].(0040,0003)",
    "(0040,0100)[0].(0040,0009)",
)


def _pids(found: list[Dataset]) -> list[str]:
    return sorted(str(ds.PatientID) for ds in found)


@pytest.mark.dcmtk
@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param([], ["P001", "P002", "P003", "P004", "P005", "Q006"], id="universal"),
        pytest.param(["(0010,0010)=Doe*"], ["P001", "P002", "P005"], id="name-wildcard-case"),
        pytest.param(["(0010,0010)=doe^j*"], ["P001", "P002"], id="name-lowercase"),
        pytest.param(["(0010,0010)=Doe^Ja?e"], ["P002"], id="name-question-mark"),
        pytest.param(["(0010,0010)=SMITH^ANNA"], ["P004"], id="name-single-value-case"),
        pytest.param(["(0010,0010)=müller*"], ["P003"], id="name-non-ascii-case"),
        pytest.param(["(0010,0010)=*Åse"], ["Q006"], id="name-non-ascii-suffix"),
        pytest.param(["(0010,0020)=P003"], ["P003"], id="patient-id"),
        pytest.param(["(0010,0020)=Q*"], ["Q006"], id="patient-id-wildcard"),
        pytest.param(["(0010,0020)=p003"], [], id="patient-id-case-sensitive"),
        pytest.param(["(0008,0050)=A004"], ["P004"], id="accession"),
        pytest.param(["(0040,0100)[0].(0008,0060)=CT"], ["P001", "P003", "P005"], id="modality"),
        pytest.param(["(0040,0100)[0].(0040,0001)=MR01"], ["P002", "Q006"], id="station"),
        pytest.param(
            ["(0040,0100)[0].(0008,0060)=CT", "(0040,0100)[0].(0040,0001)=CT01"],
            ["P001", "P005"],
            id="modality-and-station",
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0002)=20261121"], ["P001", "P002", "P005"], id="single-date"
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0002)=20261121-20261122"],
            ["P001", "P002", "P003", "P005"],
            id="date-range",
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0002)=20261122-"], ["P003", "Q006"], id="open-range-from"
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0002)=-20261121"],
            ["P001", "P002", "P004", "P005"],
            id="open-range-until",
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0002)=20261121", "(0040,0100)[0].(0040,0003)=0900-1200"],
            ["P002"],
            id="date-and-time-range",
        ),
        pytest.param(
            ["(0040,0100)[0].(0040,0003)=1400-"], ["P003", "P005", "Q006"], id="open-time-range"
        ),
        pytest.param(["(0040,0100)[0].(0040,0003)=-0945"], ["P001", "P004"], id="time-range-until"),
        pytest.param(
            ["(0010,0010)=Doe*", "(0040,0100)[0].(0008,0060)=MR"], ["P002"], id="combined"
        ),
        pytest.param(["(0010,0010)=Nobody*"], [], id="no-match"),
    ],
)
def test_findscu_matching(
    worklist_scp: RunningServer,
    items: list[WorklistItem],
    tmp_path: Path,
    keys: list[str],
    expected: list[str],
) -> None:
    found = _findscu(worklist_scp, tmp_path / "rsp", *RETURN_KEYS, *keys)
    assert _pids(found) == expected


@pytest.mark.dcmtk
def test_findscu_return_keys_filled_from_stored_item(
    worklist_scp: RunningServer, items: list[WorklistItem], tmp_path: Path
) -> None:
    found = _findscu(
        worklist_scp,
        tmp_path / "rsp",
        *RETURN_KEYS,
        "(0010,0020)=P003",
        "(0010,0030)",
        "(0010,0040)",
        "(0008,0090)",
        "(0032,1060)",
        "(0040,1001)",
        "(0010,1030)",  # Patient's Weight: not held, comes back empty
        "(0040,0100)[0].(0040,0007)",
        "(0040,0100)[0].(0040,0020)",
    )
    (ds,) = found
    item = next(i for i in items if i.patient_id == "P003")
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.PatientName == "Müller^Jürgen"
    assert ds.PatientBirthDate == "19800101"
    assert ds.PatientSex == "M"
    assert ds.AccessionNumber == "A003"
    assert ds.ReferringPhysicianName == "Ref^Doc"
    assert ds.StudyInstanceUID == item.study_instance_uid
    assert ds.RequestedProcedureID == "RP-P003"
    assert ds.RequestedProcedureDescription == "CT exam of P003"
    assert "PatientWeight" in ds and ds.PatientWeight in (None, "")
    (sps,) = ds.ScheduledProcedureStepSequence
    assert sps.Modality == "CT"
    assert sps.ScheduledStationAETitle == "CT02"
    assert sps.ScheduledProcedureStepStartDate == "20261122"
    assert sps.ScheduledProcedureStepStartTime.startswith("1415")
    assert sps.ScheduledProcedureStepID == "SPS-P003"
    assert sps.ScheduledProcedureStepDescription == "CT exam of P003"
    assert sps.ScheduledProcedureStepStatus == "SCHEDULED"
    # Only the keys asked for come back.
    assert "PatientComments" not in ds
    assert "ScheduledProtocolCodeSequence" not in sps


@pytest.mark.dcmtk
def test_findscu_cancel_after_first_response(scp: RunningServer, tmp_path: Path) -> None:
    _many(scp, 400)
    out = tmp_path / "rsp"
    found, log = _run_findscu(scp, out, *RETURN_KEYS, extra=("--cancel", "1"))
    assert 1 <= len(found) < 400
    assert "Received Final Find Response (Cancel" in log, log


def _many(scp: RunningServer, count: int) -> None:
    add_worklist(
        scp,
        *(
            {
                "patient_name": f"Many^Patient{n:04d}",
                "patient_id": f"M{n:04d}",
                "modality": "CT",
                "date": "20261121",
                "time": f"{8 + n % 10:02d}{n % 60:02d}",
            }
            for n in range(count)
        ),
    )


def _query(**keys: Any) -> Dataset:
    ds = mwl_query(**keys)
    ds.SpecificCharacterSet = "ISO_IR 192"
    return ds


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param({}, ["P001", "P002", "P003", "P004", "P005", "Q006"], id="universal"),
        pytest.param(
            {"PatientName": "*"}, ["P001", "P002", "P003", "P004", "P005", "Q006"], id="star"
        ),
        pytest.param({"PatientName": "dOe*"}, ["P001", "P002", "P005"], id="name-wildcard"),
        pytest.param({"PatientName": "MÜLLER^JÜRGEN"}, ["P003"], id="non-ascii-case"),
        pytest.param({"PatientID": "P00?"}, ["P001", "P002", "P003", "P004", "P005"], id="pid-?"),
        pytest.param({"AccessionNumber": "B006"}, ["Q006"], id="accession"),
        pytest.param({"sps_Modality": "US"}, ["P004"], id="modality"),
        pytest.param(
            {"sps_ScheduledStationAETitle": "CT0*"}, ["P001", "P003", "P005"], id="station"
        ),
        pytest.param(
            {"sps_ScheduledProcedureStepStartDate": "20261120-20261121"},
            ["P001", "P002", "P004", "P005"],
            id="date-range",
        ),
        pytest.param(
            {
                "sps_ScheduledProcedureStepStartDate": "20261121-20261123",
                "sps_ScheduledProcedureStepStartTime": "1000-1500",
            },
            # combined date-time range: from 21st 10:00 to 23rd 15:00
            ["P002", "P003", "P005"],
            id="date-time-range",
        ),
        pytest.param({"sps_ScheduledProcedureStepStartTime": "1030"}, ["P002"], id="single-time"),
    ],
)
def test_pynetdicom_matching(
    worklist_scp: RunningServer,
    items: list[WorklistItem],
    keys: dict[str, Any],
    expected: list[str],
) -> None:
    found, final = find_worklist(worklist_scp, _query(**keys))
    assert final == 0x0000
    assert _pids(found) == expected


def test_pynetdicom_return_keys_and_unknown_key(
    worklist_scp: RunningServer, items: list[WorklistItem]
) -> None:
    query = _query(PatientID="Q006")
    query.PatientBirthDate = ""
    query.PatientSex = ""
    query.AdmissionID = ""  # not held: returned empty
    sps = query.ScheduledProcedureStepSequence[0]
    template = Dataset()
    template.CodeValue = ""
    template.CodeMeaning = ""
    sps.ScheduledProtocolCodeSequence = DicomSequence([template])
    found, final = find_worklist(worklist_scp, query)
    assert final == 0x0000
    (ds,) = found
    item = next(i for i in items if i.patient_id == "Q006")
    assert ds.PatientName == "Ødegård^Åse"
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19800101", "F")
    assert ds.AccessionNumber == "B006"
    assert ds.StudyInstanceUID == item.study_instance_uid
    assert ds.RequestedProcedureID == "RP-Q006"
    assert "AdmissionID" in ds and ds.AdmissionID in (None, "")
    (rsp_sps,) = ds.ScheduledProcedureStepSequence
    assert rsp_sps.Modality == "MR"
    assert rsp_sps.ScheduledStationAETitle == "MR01"
    assert rsp_sps.ScheduledProcedureStepStartDate == "20261123"
    assert rsp_sps.ScheduledProcedureStepStartTime.startswith("2330")
    assert rsp_sps.ScheduledProcedureStepID == "SPS-Q006"
    (code,) = rsp_sps.ScheduledProtocolCodeSequence
    assert code.CodeValue and code.CodeMeaning
    assert "CodingSchemeDesignator" not in code  # not in the template
    assert "PatientComments" not in ds


def test_pynetdicom_cancel_after_first_pending(scp: RunningServer) -> None:
    total = 400
    _many(scp, total)
    pending = 0
    final = -1
    with associate(scp, ModalityWorklistInformationFind) as assoc:
        context_id = assoc.accepted_contexts[0].context_id
        responses = assoc.send_c_find(_query(), ModalityWorklistInformationFind, msg_id=7)
        for status, _identifier in responses:
            assert status, "no C-FIND response (timeout or abort)"
            if status.Status in (0xFF00, 0xFF01):
                pending += 1
                if pending == 1:
                    assoc.send_c_cancel(7, context_id)
            else:
                final = int(status.Status)
    assert final == 0xFE00
    assert 1 <= pending < total, pending
    # The SCP is still serving afterwards.
    found, final = find_worklist(scp, _query(PatientName="Many^Patient000*"))
    assert (len(found), final) == (10, 0x0000)
