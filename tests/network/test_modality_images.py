"""send-images (IHE RAD-8) into DCMTK storescp: valid files carrying the order's attributes."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
    RLELossless,
    UltrasoundImageStorage,
)

from mppsconsole.store import instances
from tests.conftest import LOOPBACK
from tests.network.peers import DcmtkServer, Modality, dataset_files, require, storescp

pytestmark = pytest.mark.dcmtk

DCIODVFY = "/usr/bin/dciodvfy"
SOP_CLASSES = {"CT": CTImageStorage, "MR": MRImageStorage, "US": UltrasoundImageStorage}


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[DcmtkServer]:
    with storescp(tmp_path / "received") as server:
        yield server


@pytest.fixture
def modality(tmp_path: Path) -> Modality:
    return Modality(tmp_path)


def add_order(modality: Modality, accession: str, modality_code: str) -> dict[str, str]:
    modality.ok(
        "worklist",
        "add",
        "--patient-name",
        "Müller^Jürgen",
        "--patient-id",
        "PID-RAD8",
        "--birth-date",
        "19650403",
        "--sex",
        "M",
        "--modality",
        modality_code,
        "--date",
        "today",
        "--time",
        "0800",
        "--accession",
        accession,
        "--description",
        "Abdomen routine",
    )
    (item,) = modality.ok("worklist", "list", "--json").json()
    assert isinstance(item, dict)
    return item


def dciodvfy_errors(path: Path) -> list[str]:
    require(DCIODVFY)
    result = subprocess.run(
        [DCIODVFY, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    report = (result.stdout + result.stderr).splitlines()
    return [line for line in report if "Error" in line]


@pytest.mark.parametrize(
    ("modality_code", "syntax"),
    [
        ("CT", "explicit"),
        ("MR", "explicit"),
        ("US", "explicit"),
        ("CT", "rle"),
    ],
)
def test_send_images_arrive_valid_with_the_orders_attributes(
    modality: Modality, pacs: DcmtkServer, tmp_path: Path, modality_code: str, syntax: str
) -> None:
    item = add_order(modality, "A-RAD8", modality_code)
    result = modality.ok(
        "send-images",
        "--to",
        f"{LOOPBACK}:{pacs.port}",
        "--count",
        "3",
        "--modality",
        modality_code.lower(),
        "--accession",
        "A-RAD8",
        "--transfer-syntax",
        syntax,
    )
    match = re.fullmatch(
        rf"sent 3 image\(s\) to ANY-SCP@{re.escape(LOOPBACK)}:{pacs.port}, series (\S+)\n",
        result.stdout,
    )
    assert match, result.stdout
    series_uid = match.group(1)
    assert [line for line in result.stderr.splitlines() if line] == [
        "sending image 1/3",
        "sending image 2/3",
        "sending image 3/3",
    ]

    files = dataset_files(tmp_path / "received")
    assert len(files) == 3, files
    uids = set()
    for path in files:
        assert not dciodvfy_errors(path), f"dciodvfy {path.name}: {dciodvfy_errors(path)}"
        ds = pydicom.dcmread(path)
        expected_syntax = RLELossless if syntax == "rle" else ExplicitVRLittleEndian
        assert ds.file_meta.TransferSyntaxUID == expected_syntax
        assert ds.SOPClassUID == SOP_CLASSES[modality_code]
        assert ds.Modality == modality_code
        assert str(ds.PatientName) == "Müller^Jürgen"
        assert ds.PatientID == "PID-RAD8"
        assert ds.PatientBirthDate == "19650403"
        assert ds.PatientSex == "M"
        assert ds.AccessionNumber == "A-RAD8"
        assert ds.StudyInstanceUID == item["study_instance_uid"]
        assert ds.SeriesInstanceUID == series_uid
        (request,) = ds.RequestAttributesSequence
        assert request.RequestedProcedureID == item["requested_procedure_id"]
        assert request.ScheduledProcedureStepID == item["scheduled_step_id"]
        uids.add(ds.SOPInstanceUID)
    assert len(uids) == 3

    # The store remembers what was sent, not linked to any step.
    with modality.database() as db, db.reading() as conn:
        rows = conn.execute(
            "SELECT sop_instance_uid FROM instances WHERE series_instance_uid = ?", (series_uid,)
        ).fetchall()
        held = instances.held(conn, uids)
    assert {r[0] for r in rows} == uids
    assert held == {}  # sent, not received


def test_each_run_is_a_new_series(modality: Modality, pacs: DcmtkServer, tmp_path: Path) -> None:
    add_order(modality, "A-TWICE", "MR")
    to = ("--to", f"{LOOPBACK}:{pacs.port}", "--accession", "A-TWICE", "--count", "1")
    first = modality.ok("send-images", *to).stdout.split()[-1]
    second = modality.ok("send-images", *to).stdout.split()[-1]
    assert first != second
    files = dataset_files(tmp_path / "received")
    assert {pydicom.dcmread(p).SeriesInstanceUID for p in files} == {first, second}
    assert {pydicom.dcmread(p).Modality for p in files} == {"MR"}  # the order's modality


def test_send_images_needs_a_known_order(modality: Modality, pacs: DcmtkServer) -> None:
    result = modality.run(
        "send-images", "--to", f"{LOOPBACK}:{pacs.port}", "--count", "2", "--accession", "NONE"
    )
    result.assert_one_line_error(2, "no worklist item with accession 'NONE'")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [(("--count", "0"), "--count"), (("--count", "2", "--modality", "XA"), "XA")],
)
def test_send_images_bad_input(
    modality: Modality, pacs: DcmtkServer, tmp_path: Path, extra: tuple[str, ...], fragment: str
) -> None:
    add_order(modality, "A-BAD", "CT")
    result = modality.run(
        "send-images", "--to", f"{LOOPBACK}:{pacs.port}", "--accession", "A-BAD", *extra
    )
    result.assert_one_line_error(2, fragment)
    assert dataset_files(tmp_path / "received") == []
