"""Our DICOM JSON encoder (the MPPS SCP's hot path) against pydicom's own."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from mppsconsole.net import datasets

TEST_FILES = sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm"))


def _reference(path: Path) -> tuple[Dataset, dict[str, object]] | None:
    """The file and pydicom's JSON of it; None for files pydicom cannot encode either."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's samples include deliberately odd files
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            return ds, ds.to_json_dict()
        except Exception:
            return None


def test_pydicom_ships_the_sample_files() -> None:
    assert len(TEST_FILES) > 50


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_encodes_every_pydicom_sample_as_pydicom_does(path: Path) -> None:
    reference = _reference(path)
    if reference is None:
        return
    ds, expected = reference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert datasets.to_json_dict(ds) == expected


def test_encodes_an_mpps_attribute_list_as_pydicom_does() -> None:
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = "1.2.3.4.5"
    series = Dataset()
    series.OperatorsName = ["Tech^Tina", "Tech^Tom=テク^トム"]
    series.PerformingPhysicianName = ""
    series.ReferencedImageSequence = Sequence([item, item])
    series.ReferencedNonImageCompositeSOPInstanceSequence = Sequence()
    ds = Dataset()
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    ds.PerformedProcedureStepStatus = "COMPLETED"
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedSeriesSequence = Sequence([series])
    ds.ReferencedPatientSequence = Sequence()
    ds.NumberOfFrames = "12"
    ds.SliceThickness = "1.25"
    ds.ImagePositionPatient = ["-1.5", "2", "3.25"]
    ds.Rows = 512
    ds.FrameIncrementPointer = 0x00181063
    ds.add_new(0x00091001, "OB", b"\x01\x02")
    assert datasets.to_json_dict(ds) == ds.to_json_dict()
    assert datasets.from_json(datasets.to_json(ds)) == ds
