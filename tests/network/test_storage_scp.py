"""Storage SCP (DESIGN.md §3): files sent by DCMTK storescu land byte for byte, by UID.

Compressed test files come from pydicom's own RLE encoder and from DCMTK's
dcmcjpls / dcmcjpeg (pydicom needs extra packages to encode JPEG-LS or JPEG).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    generate_uid,
)
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.store import instances
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env
from tests.network.conftest import (
    TIMEOUT,
    associate,
    completed_dataset,
    create_dataset,
    create_step,
    ct_image,
    mpps_association,
    performed_series,
    scheduled_item,
)


def _write(ds: Dataset, path: Path, transfer_syntax: str, tmp: Path) -> Path:
    """Save ``ds`` in ``transfer_syntax``: pydicom for RLE and uncompressed, DCMTK's
    dcmcjpls / dcmcjpeg for JPEG-LS and JPEG (pydicom encodes those only with extra
    packages; nothing here encodes JPEG 2000, so that is checked by negotiation only)."""
    if transfer_syntax == RLELossless:
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.save_as(path, enforce_file_format=True)
    elif transfer_syntax in (JPEGLSLossless, JPEGLosslessSV1):
        source = tmp / f"{path.stem}-source.dcm"
        ds.save_as(source, enforce_file_format=True)
        tool = "dcmcjpls" if transfer_syntax == JPEGLSLossless else "dcmcjpeg"
        subprocess.run([dcmtk(tool), str(source), str(path)], check=True, timeout=60)
    elif transfer_syntax == JPEGBaseline8Bit:
        source = tmp / f"{path.stem}-source.dcm"
        ds.save_as(source, enforce_file_format=True)
        subprocess.run([dcmtk("dcmcjpeg"), "+eb", str(source), str(path)], check=True, timeout=60)
    else:
        ds.file_meta.TransferSyntaxUID = transfer_syntax
        ds.save_as(
            path, enforce_file_format=True, implicit_vr=transfer_syntax == ImplicitVRLittleEndian
        )
    written = pydicom.dcmread(path)
    assert written.file_meta.TransferSyntaxUID == transfer_syntax
    return path


#: The storescu option that proposes each transfer syntax.
PROPOSE = {
    ExplicitVRLittleEndian: "-xe",
    ImplicitVRLittleEndian: "-xi",
    DeflatedExplicitVRLittleEndian: "-xd",
    RLELossless: "-xr",
    JPEGLSLossless: "-xt",
    JPEGLosslessSV1: "-xs",
}


def storescu(scp: RunningServer, *files: Path, propose: str = "-xe", aet: str = "STORESCU") -> str:
    """Send ``files`` with DCMTK storescu; its log (verbose). Fails the test on a non-zero exit."""
    result = _storescu(scp, *files, propose=propose, aet=aet)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return log


def _storescu(
    scp: RunningServer, *files: Path, propose: str, aet: str = "STORESCU"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            dcmtk("storescu"),
            "-v",
            "-nh",
            propose,
            "-aet",
            aet,
            "-aec",
            scp.ae_title,
            "-to",
            str(TIMEOUT),
            "-ta",
            str(TIMEOUT),
            "-td",
            str(TIMEOUT),
            LOOPBACK,
            str(scp.port),
            *map(str, files),
        ],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _stored_path(scp: RunningServer, ds: Dataset) -> Path:
    return scp.images_dir / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"


def _held(scp: RunningServer, *uids: str) -> dict[str, instances.Instance]:
    with scp.db.reading() as conn:
        return instances.held(conn, uids)


def _raw_pixel_data(path: Path) -> bytes:
    """The Pixel Data element's value bytes as encoded in the file (fragments and all)."""
    value = pydicom.dcmread(path)["PixelData"].value
    assert isinstance(value, bytes)
    return value


@pytest.mark.dcmtk
@pytest.mark.parametrize("transfer_syntax", list(PROPOSE), ids=lambda ts: ts.name)
def test_storescu_file_is_stored_unchanged(
    scp: RunningServer, tmp_path: Path, transfer_syntax: pydicom.uid.UID
) -> None:
    ds = ct_image()
    sent = _write(ds, tmp_path / "sent.dcm", transfer_syntax, tmp_path)
    sent_ds = pydicom.dcmread(sent)
    log = storescu(scp, sent, propose=PROPOSE[transfer_syntax])
    assert "Received Store Response (Success)" in log, log

    stored = _stored_path(scp, sent_ds)
    assert stored.is_file()
    stored_ds = pydicom.dcmread(stored)
    assert stored_ds.file_meta.TransferSyntaxUID == transfer_syntax
    assert stored_ds.file_meta.MediaStorageSOPInstanceUID == sent_ds.SOPInstanceUID
    assert _raw_pixel_data(stored) == _raw_pixel_data(sent)
    assert stored_ds.PatientName == "Store^Test"

    record = _held(scp, sent_ds.SOPInstanceUID)[sent_ds.SOPInstanceUID]
    assert record.sop_class_uid == CTImageStorage
    assert record.study_instance_uid == sent_ds.StudyInstanceUID
    assert record.series_instance_uid == sent_ds.SeriesInstanceUID
    assert record.transfer_syntax == transfer_syntax
    assert Path(record.path) == stored
    assert record.size == stored.stat().st_size
    assert record.calling_ae == "STORESCU"
    assert record.step_uid is None  # no step for this study
    assert not list(stored.parent.glob("*.part"))


@pytest.mark.dcmtk
def test_storescu_many_files_on_one_association(scp: RunningServer, tmp_path: Path) -> None:
    study = generate_uid()
    sent = []
    for n in range(5):
        ds = ct_image(study)
        ds.InstanceNumber = n + 1
        sent.append(_write(ds, tmp_path / f"ct{n}.dcm", ExplicitVRLittleEndian, tmp_path))
    log = storescu(scp, *sent)
    assert log.count("Received Store Response (Success)") == 5
    datasets = [pydicom.dcmread(p) for p in sent]
    held = _held(scp, *(d.SOPInstanceUID for d in datasets))
    assert len(held) == 5
    for path, ds in zip(sent, datasets, strict=True):
        assert _raw_pixel_data(_stored_path(scp, ds)) == _raw_pixel_data(path)


@pytest.mark.dcmtk
def test_instance_is_linked_to_the_step_of_its_study(scp: RunningServer, tmp_path: Path) -> None:
    study = generate_uid()
    with mpps_association(scp) as assoc:
        step = create_step(
            assoc, create_dataset(scheduled=[scheduled_item(study, "SPS-ST", "ACC-ST")])
        )
    linked = _write(ct_image(study), tmp_path / "linked.dcm", RLELossless, tmp_path)
    other = _write(ct_image(), tmp_path / "other.dcm", ExplicitVRLittleEndian, tmp_path)
    storescu(scp, linked, propose="-xr")
    storescu(scp, other)
    linked_uid = pydicom.dcmread(linked).SOPInstanceUID
    other_uid = pydicom.dcmread(other).SOPInstanceUID
    held = _held(scp, linked_uid, other_uid)
    assert held[linked_uid].step_uid == step
    assert held[other_uid].step_uid is None
    with scp.db.reading() as conn:
        assert [i.sop_instance_uid for i in instances.for_step(conn, step)] == [linked_uid]


@pytest.mark.dcmtk
def test_secondary_capture_is_accepted(scp: RunningServer, tmp_path: Path) -> None:
    """Any storage SOP class is accepted, not only the image types the console generates."""
    ds = ct_image()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.ConversionType = "WSD"
    path = _write(ds, tmp_path / "sc.dcm", ExplicitVRLittleEndian, tmp_path)
    storescu(scp, path)
    record = _held(scp, ds.SOPInstanceUID)[ds.SOPInstanceUID]
    assert record.sop_class_uid == SecondaryCaptureImageStorage


@pytest.mark.dcmtk
@pytest.mark.parametrize(
    "tag",
    ["(0020,000D)", "(0020,000E)"],
    ids=["study-uid", "series-uid"],
)
@pytest.mark.parametrize(
    "bad",
    ["1.2.3.abc", "1.2/../../3", "", "1.2." + "3" * 61],
    ids=["letters", "path", "empty", "65-chars"],
)
def test_invalid_uid_gets_a_failure_status(
    scp: RunningServer, tmp_path: Path, tag: str, bad: str
) -> None:
    ds = ct_image()
    path = _write(ds, tmp_path / "bad.dcm", ExplicitVRLittleEndian, tmp_path)
    subprocess.run(
        [dcmtk("dcmodify"), "-nb", "-m", f"{tag}={bad}", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    result = _storescu(scp, path, propose="-xe")
    log = result.stdout + result.stderr
    assert "Received Store Response (Error: CannotUnderstand)" in log, log  # 0xC000
    assert _held(scp, ds.SOPInstanceUID) == {}
    assert not list(scp.images_dir.rglob("*.dcm"))


@pytest.mark.parametrize(
    "bad", ["1.2.3.abc", "1.2.3.", "1..2"], ids=["letters", "trailing-dot", "empty-component"]
)
def test_invalid_sop_instance_uid_gets_failure_status_and_comment(
    scp: RunningServer, bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pydicom warns about the UID we mean to send (and the SCP about the one it reads).
    monkeypatch.setattr(pydicom.config.settings, "reading_validation_mode", pydicom.config.IGNORE)
    monkeypatch.setattr(pydicom.config.settings, "writing_validation_mode", pydicom.config.IGNORE)
    ds = ct_image()
    ds.SOPInstanceUID = bad
    with associate(scp, (CTImageStorage, [ExplicitVRLittleEndian])) as assoc:
        status = assoc.send_c_store(ds)
    assert status.Status == 0xC000
    assert "SOP Instance UID" in status.ErrorComment
    assert _held(scp, bad) == {}
    assert not list(scp.images_dir.rglob("*.dcm"))


def sc_image_8bit() -> Dataset:
    """An 8-bit Secondary Capture image (what JPEG baseline can carry)."""
    ds = ct_image()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.ConversionType = "WSD"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    for keyword in ("RescaleIntercept", "RescaleSlope", "RescaleType", "KVP"):
        delattr(ds, keyword)
    ds.PixelData = bytes((x * 3 + y) % 256 for y in range(ds.Rows) for x in range(ds.Columns))
    return ds


@pytest.mark.dcmtk
def test_jpeg_baseline_is_stored_unchanged(scp: RunningServer, tmp_path: Path) -> None:
    sent = _write(sc_image_8bit(), tmp_path / "jpeg.dcm", JPEGBaseline8Bit, tmp_path)
    sent_ds = pydicom.dcmread(sent)
    log = storescu(scp, sent, propose="-xy")
    assert "Received Store Response (Success)" in log, log
    stored = _stored_path(scp, sent_ds)
    assert pydicom.dcmread(stored).file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert _raw_pixel_data(stored) == _raw_pixel_data(sent)
    record = _held(scp, sent_ds.SOPInstanceUID)[sent_ds.SOPInstanceUID]
    assert record.transfer_syntax == JPEGBaseline8Bit


@pytest.mark.parametrize(
    "transfer_syntax",
    [
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        RLELossless,
        JPEGBaseline8Bit,
        JPEGExtended12Bit,
        JPEGLossless,
        JPEGLosslessSV1,
        JPEGLSLossless,
        JPEGLSNearLossless,
        JPEG2000Lossless,
        JPEG2000,
    ],
    ids=lambda ts: ts.name,
)
def test_each_listed_transfer_syntax_is_accepted_as_offered(
    scp: RunningServer, transfer_syntax: pydicom.uid.UID
) -> None:
    """Offered alone, each transfer syntax of DESIGN.md §3 is accepted, for any storage class."""
    classes = (CTImageStorage, MRImageStorage, UltrasoundImageStorage)
    with associate(scp, *((sop, [transfer_syntax]) for sop in classes)) as assoc:
        accepted = {cx.abstract_syntax: cx.transfer_syntax for cx in assoc.accepted_contexts}
    assert accepted == {sop: [transfer_syntax] for sop in classes}


@pytest.mark.dcmtk
def test_instance_linked_by_the_step_that_references_it(scp: RunningServer, tmp_path: Path) -> None:
    """An instance of another study is linked once the step lists it in its performed series."""
    image = _write(ct_image(), tmp_path / "ref.dcm", ExplicitVRLittleEndian, tmp_path)
    image_ds = pydicom.dcmread(image)
    storescu(scp, image)
    assert _held(scp, image_ds.SOPInstanceUID)[image_ds.SOPInstanceUID].step_uid is None
    with mpps_association(scp) as assoc:
        step = create_step(assoc)
        status, _ = assoc.send_n_set(
            completed_dataset(
                [performed_series(image_ds.SeriesInstanceUID, [image_ds.SOPInstanceUID])]
            ),
            ModalityPerformedProcedureStep,
            step,
        )
    assert status.Status == 0x0000
    assert _held(scp, image_ds.SOPInstanceUID)[image_ds.SOPInstanceUID].step_uid == step


@pytest.mark.parametrize(
    ("sop_class", "sop_instance", "syntax"),
    [
        ("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", "1.2.840.10008.1.2.1"),  # even, even, odd
        ("1.2.840.10008.5.1.4.1.1.7", "1.2.3.45", "1.2.840.10008.1.2"),  # odd lengths
        ("1.2.840.10008.5.1.4.1.1.4", "2.25." + "9" * 59, "1.2.840.10008.1.2.4.50"),
    ],
)
def test_file_meta_is_encoded_as_pynetdicom_would(
    sop_class: str, sop_instance: str, syntax: str
) -> None:
    """Our hand-written File Meta Information equals pynetdicom's event.file_meta encoded."""
    from pydicom.dataset import FileMetaDataset
    from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
    from pynetdicom.dsutils import encode_file_meta

    from mppsconsole.net.storage_scp import file_meta

    meta = FileMetaDataset()
    meta.FileMetaInformationGroupLength = 0
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = PYNETDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = PYNETDICOM_IMPLEMENTATION_VERSION
    assert file_meta(sop_class, sop_instance, syntax) == encode_file_meta(meta)
