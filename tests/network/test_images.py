"""Generated test images (IHE RAD-8): valid IODs, the step's attributes, visible pixels.

Validity is judged by an independent implementation, dicom3tools' ``dciodvfy``,
not by the generator's own idea of the IOD; DCMTK reads what it cannot.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)

from mppsconsole.core.errors import InputError
from mppsconsole.net import font
from mppsconsole.net.images import (
    MODALITIES,
    ImageContext,
    SeriesPlan,
    generate_series,
    plan_series,
)

DCIODVFY = "/usr/bin/dciodvfy"
MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
STUDY_START = datetime.datetime(2026, 11, 21, 14, 3, 27)

CONTEXT = ImageContext(
    patient_name="Müller^Jürgen",
    patient_id="PID-4711",
    study_instance_uid="1.2.826.0.1.3680043.10.543.1.1",
    birth_date="19700102",
    sex="M",
    accession_number="ACC-2026-0042",
    study_id="ST42",
    study_description="Thorax und Abdomen",
    referring_physician="Schmidt^Anna^^Dr.",
    requested_procedure_id="RP-42",
    requested_procedure_description="CT Thorax/Abdomen",
    scheduled_step_id="SPS-42-1",
    scheduled_step_description="CT Thorax nativ",
    mpps_uid="1.2.826.0.1.3680043.10.543.2.1",
    performed_step_id="PPS-42-1",
    station_ae="CT_ROOM_1",
    station_name="CT01",
    operator="Tech^Tina",
    institution="Klinikum Süd",
    study_datetime=STUDY_START,
)

U16 = npt.NDArray[np.uint16]


# ------------------------------------------------------------------------ helpers


def dciodvfy(path: Path) -> list[str]:
    """dciodvfy's report on ``path``, one line each; fails when it is not installed."""
    if not os.path.exists(DCIODVFY):
        pytest.fail(f"{DCIODVFY} missing: install dicom3tools (Debian package dicom3tools)")
    result = subprocess.run(
        [DCIODVFY, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    return (result.stdout + result.stderr).splitlines()


def assert_valid(path: Path) -> None:
    report = dciodvfy(path)
    errors = [line for line in report if "Error" in line]
    assert not errors, f"dciodvfy {path.name}:\n" + "\n".join(report)


def save_series(
    directory: Path,
    ctx: ImageContext,
    plan: SeriesPlan,
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> list[Path]:
    paths = []
    for ds in generate_series(ctx, plan, transfer_syntax=transfer_syntax):
        path = directory / f"{plan.modality}-{transfer_syntax}-{ds.InstanceNumber}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def pixels(ctx: ImageContext, plan: SeriesPlan) -> list[npt.NDArray[np.generic]]:
    return [ds.pixel_array for ds in generate_series(ctx, plan)]


def changed_box(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> tuple[slice, slice]:
    """Bounding box (rows, columns) of the pixels that differ between two images."""
    diff = a != b
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows, columns = np.nonzero(diff)
    assert rows.size, "the images are identical"
    return slice(int(rows.min()), int(rows.max()) + 1), slice(
        int(columns.min()), int(columns.max()) + 1
    )


@pytest.fixture
def ct_plan() -> SeriesPlan:
    return plan_series("CT", 2, series_number=3)


# -------------------------------------------------------------- IOD validity


@pytest.mark.dcmtk
@pytest.mark.parametrize("modality", MODALITIES)
def test_each_modality_is_a_valid_iod(tmp_path: Path, modality: str) -> None:
    paths = save_series(tmp_path, CONTEXT, plan_series(modality, 2))
    assert len(paths) == 2
    for path in paths:
        assert_valid(path)


@pytest.mark.dcmtk
@pytest.mark.parametrize("modality", ["CT", "US", "SC"])
def test_rle_lossless_is_a_valid_iod(tmp_path: Path, modality: str) -> None:
    for path in save_series(tmp_path, CONTEXT, plan_series(modality, 2), RLELossless):
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == RLELossless
        assert_valid(path)


@pytest.mark.dcmtk
def test_implicit_vr_is_a_valid_iod(tmp_path: Path) -> None:
    (path,) = save_series(tmp_path, CONTEXT, plan_series("MR", 1), ImplicitVRLittleEndian)
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert_valid(path)


@pytest.mark.dcmtk
def test_deflated_is_read_by_dcmtk_and_valid(tmp_path: Path) -> None:
    """dciodvfy cannot inflate; DCMTK's dcmconv does, and its output must validate."""
    (path,) = save_series(tmp_path, CONTEXT, plan_series("CT", 1), DeflatedExplicitVRLittleEndian)
    inflated = tmp_path / "inflated.dcm"
    dcmconv = "/usr/bin/dcmconv"
    if not os.path.exists(dcmconv):
        pytest.fail(f"{dcmconv} missing: install the Debian package dcmtk")
    subprocess.run([dcmconv, "+te", str(path), str(inflated)], check=True, timeout=60)
    assert_valid(inflated)


@pytest.mark.dcmtk
@pytest.mark.parametrize("name", ["张^三", "DOE^JOHN"])
def test_names_in_other_scripts_are_valid(tmp_path: Path, name: str) -> None:
    ctx = dataclasses.replace(CONTEXT, patient_name=name, institution="MPPS Console")
    (path,) = save_series(tmp_path, ctx, plan_series("SC", 1))
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert ds.PatientName == name
    assert ds.get("SpecificCharacterSet") == ("ISO_IR 192" if not name.isascii() else None)


@pytest.mark.dcmtk
def test_unscheduled_step_without_mpps_is_valid(tmp_path: Path) -> None:
    """IHE unscheduled case: no request attributes, no step reference, still a valid IOD."""
    ctx = ImageContext(patient_name="DOE^JANE", patient_id="P2", study_instance_uid="1.2.3.4")
    (path,) = save_series(tmp_path, ctx, plan_series("DX", 1))
    assert_valid(path)
    ds = pydicom.dcmread(path)
    assert "RequestAttributesSequence" not in ds
    assert "ReferencedPerformedProcedureStepSequence" not in ds
    assert "SpecificCharacterSet" not in ds


# ------------------------------------------------------------ RLE round trip


@pytest.mark.parametrize(("modality", "count"), [("CT", 2), ("US", 2), ("DX", 1)])
def test_rle_decodes_to_the_uncompressed_pixels(tmp_path: Path, modality: str, count: int) -> None:
    plan = plan_series(modality, count)
    native = save_series(tmp_path, CONTEXT, plan)
    rle = save_series(tmp_path, CONTEXT, plan, RLELossless)
    for plain_path, rle_path in zip(native, rle, strict=True):
        plain, packed = pydicom.dcmread(plain_path), pydicom.dcmread(rle_path)
        assert packed.file_meta.TransferSyntaxUID == RLELossless
        assert len(packed.PixelData) < len(plain.PixelData)
        assert packed.pixel_array.dtype == plain.pixel_array.dtype
        np.testing.assert_array_equal(packed.pixel_array, plain.pixel_array)


# ------------------------------------------------- attributes of the step


def read_back(tmp_path: Path, ctx: ImageContext, plan: SeriesPlan) -> list[Dataset]:
    return [pydicom.dcmread(path) for path in save_series(tmp_path, ctx, plan)]


@pytest.mark.parametrize("modality", MODALITIES)
def test_images_carry_the_context_unchanged(tmp_path: Path, modality: str) -> None:
    plan = plan_series(modality, 2)
    for ds in read_back(tmp_path, CONTEXT, plan):
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        assert ds.PatientName == "Müller^Jürgen"
        assert ds.PatientID == "PID-4711"
        assert ds.PatientBirthDate == "19700102"
        assert ds.PatientSex == "M"
        assert ds.PatientAge == "056Y"
        assert ds.StudyInstanceUID == CONTEXT.study_instance_uid
        assert ds.AccessionNumber == "ACC-2026-0042"
        assert ds.StudyID == "ST42"
        assert ds.StudyDescription == "Thorax und Abdomen"
        assert ds.ReferringPhysicianName == "Schmidt^Anna^^Dr."
        assert (ds.StudyDate, ds.StudyTime) == ("20261121", "140327")
        assert ds.InstitutionName == "Klinikum Süd"
        assert ds.StationName == "CT01"
        assert ds.OperatorsName == "Tech^Tina"
        assert ds.file_meta.SourceApplicationEntityTitle == "CT_ROOM_1"

        (request,) = ds.RequestAttributesSequence
        assert request.RequestedProcedureID == "RP-42"
        assert request.ScheduledProcedureStepID == "SPS-42-1"
        assert request.RequestedProcedureDescription == "CT Thorax/Abdomen"
        assert request.ScheduledProcedureStepDescription == "CT Thorax nativ"
        assert request.AccessionNumber == "ACC-2026-0042"
        assert request.StudyInstanceUID == CONTEXT.study_instance_uid

        (step,) = ds.ReferencedPerformedProcedureStepSequence
        assert step.ReferencedSOPClassUID == MPPS_SOP_CLASS
        assert step.ReferencedSOPInstanceUID == CONTEXT.mpps_uid
        assert ds.PerformedProcedureStepID == "PPS-42-1"
        assert ds.PerformedProcedureStepStartDate == "20261121"
        assert ds.PerformedProcedureStepStartTime == "140327"
        assert ds.PerformedProcedureStepDescription == "CT Thorax nativ"


def test_study_description_and_id_fall_back_to_the_request(tmp_path: Path) -> None:
    """IHE Appendix A: the Requested Procedure describes and numbers the study."""
    ctx = dataclasses.replace(CONTEXT, study_description="", study_id="")
    (ds,) = read_back(tmp_path, ctx, plan_series("CR", 1))
    assert ds.StudyDescription == "CT Thorax/Abdomen"
    assert ds.StudyID == "RP-42"


def test_series_identity_and_instance_numbering(tmp_path: Path) -> None:
    plan = plan_series("CT", 3, series_number=7)
    images = read_back(tmp_path, CONTEXT, plan)
    assert [ds.InstanceNumber for ds in images] == [1, 2, 3]
    assert {ds.SeriesInstanceUID for ds in images} == {plan.series_instance_uid}
    assert {ds.SeriesNumber for ds in images} == {7}
    assert len({ds.SOPInstanceUID for ds in images}) == 3
    assert len({ds.FrameOfReferenceUID for ds in images}) == 1
    assert [ds.SliceLocation for ds in images] == [0.0, -5.0, -10.0]
    for ds in images:
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.BurnedInAnnotation == "YES"
        assert ds.ContentDate and ds.ContentTime and ds.AcquisitionDate and ds.AcquisitionTime
        assert ds.ProtocolName == plan.protocol_name
        assert ds.SeriesDescription == plan.series_description


@pytest.mark.parametrize(
    ("modality", "sop_class", "dicom_modality", "shape", "bits_stored", "photometric"),
    [
        ("CT", pydicom.uid.CTImageStorage, "CT", (512, 512), 12, "MONOCHROME2"),
        ("MR", pydicom.uid.MRImageStorage, "MR", (256, 256), 12, "MONOCHROME2"),
        ("CR", pydicom.uid.ComputedRadiographyImageStorage, "CR", (1024, 880), 12, "MONOCHROME2"),
        (
            "DX",
            pydicom.uid.DigitalXRayImageStorageForPresentation,
            "DX",
            (1024, 1024),
            14,
            "MONOCHROME2",
        ),
        ("US", pydicom.uid.UltrasoundImageStorage, "US", (480, 640, 3), 8, "RGB"),
        ("SC", pydicom.uid.SecondaryCaptureImageStorage, "OT", (480, 640), 8, "MONOCHROME2"),
    ],
)
def test_modality_table(
    modality: str,
    sop_class: str,
    dicom_modality: str,
    shape: tuple[int, ...],
    bits_stored: int,
    photometric: str,
) -> None:
    ds = next(generate_series(CONTEXT, plan_series(modality, 1)))
    assert ds.SOPClassUID == sop_class
    assert ds.Modality == dicom_modality
    assert ds.pixel_array.shape == shape
    assert ds.BitsStored == bits_stored
    assert ds.PhotometricInterpretation == photometric
    assert int(ds.pixel_array.max()) < 2**bits_stored


def test_uids_use_the_root(ct_plan: SeriesPlan) -> None:
    root = "1.2.826.0.1.3680043.10.543."
    plan = plan_series("US", 2, uid_root=root)
    assert plan.series_instance_uid.startswith(root)
    for ds in generate_series(CONTEXT, plan, uid_root=root):
        assert ds.SOPInstanceUID.startswith(root)
        assert len(ds.SOPInstanceUID) <= 64
    default = next(generate_series(CONTEXT, ct_plan))
    assert default.SOPInstanceUID.startswith("2.25.")


def test_images_are_made_one_at_a_time(ct_plan: SeriesPlan) -> None:
    """A caller streams the series: the generator yields before making the rest."""
    series = generate_series(CONTEXT, dataclasses.replace(ct_plan, count=1000))
    assert isinstance(series, Iterator)
    assert next(series).InstanceNumber == 1
    assert next(series).InstanceNumber == 2


# ------------------------------------------------------------------ pixels


@pytest.mark.parametrize("modality", MODALITIES)
def test_pixels_differ_between_instances(modality: str) -> None:
    first, second = pixels(CONTEXT, plan_series(modality, 2))
    assert not np.array_equal(first, second)
    # The image-number bar along the bottom edge is one of the differences.
    rows, _ = changed_box(first, second)
    assert rows.stop > first.shape[0] * 0.95


@pytest.mark.parametrize("modality", MODALITIES)
def test_patient_name_is_burned_in_top_left(modality: str) -> None:
    plan = plan_series(modality, 1)
    (mueller,) = pixels(CONTEXT, plan)
    (chinese,) = pixels(dataclasses.replace(CONTEXT, patient_name="张^三"), plan)
    rows, columns = changed_box(mueller, chinese)
    height, width = mueller.shape[:2]
    scale = max(1, min(height, width) // 256)
    # Only the first text line changes: the name, drawn from the top-left margin.
    assert rows.start >= 2 * scale
    assert rows.stop <= 4 * scale + (font.GLYPH_HEIGHT + 1) * scale
    assert columns.start < 8 * scale
    assert columns.stop <= width // 2
    ink = 2 ** int(next(generate_series(CONTEXT, plan)).BitsStored) - 1
    assert (mueller[rows, columns] == ink).any()
    assert (chinese[rows, columns] == ink).any()


def test_study_date_is_burned_in() -> None:
    plan = plan_series("CT", 1)
    (before,) = pixels(CONTEXT, plan)
    later = dataclasses.replace(CONTEXT, study_datetime=datetime.datetime(2027, 1, 5, 9, 30))
    (after,) = pixels(later, plan)
    rows, columns = changed_box(before, after)
    step = (font.GLYPH_HEIGHT + 4) * 2
    # Fourth line (name, ID, accession, date) on a 512 image drawn at scale 2.
    assert rows.start >= 8 + 3 * step - 2
    assert rows.stop <= 8 + 4 * step
    assert columns.stop <= 8 + font.text_width(len("2026-11-21 14:03"), 2)


def test_generating_again_gives_the_same_pixels(ct_plan: SeriesPlan) -> None:
    """Pixels depend on the context and plan only: reproducible for comparisons."""
    for first, again in zip(pixels(CONTEXT, ct_plan), pixels(CONTEXT, ct_plan), strict=True):
        np.testing.assert_array_equal(first, again)


def test_font_draws_known_accented_and_unknown_characters() -> None:
    assert font.render("AB", 1).shape == (7, 11)
    assert font.render("AB", 3).shape == (21, 33)
    np.testing.assert_array_equal(font.render("Ü"), font.render("U"))
    np.testing.assert_array_equal(font.render("a"), font.render("A"))
    box = font.render("张")
    assert box[0].all() and box[-1].all() and box[:, 0].all() and box[:, -1].all()
    assert not font.render(" ").any()
    assert set("ABCXYZ0123456789^-.:/ ") <= font.CHARSET


# -------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plan_series("PET", 1), "unknown modality"),
        (lambda: plan_series("CT", 0), "at least 1"),
        (lambda: plan_series("CT", -3), "at least 1"),
        (lambda: plan_series("CT", 1, uid_root="1.2.3"), "invalid UID root"),
        (lambda: plan_series("CT", 1, uid_root="1.02.3."), "invalid UID root"),
        (lambda: plan_series("CT", 1, uid_root="abc."), "invalid UID root"),
        (lambda: plan_series("CT", 1, uid_root="1." * 30), "characters long"),
        (lambda: plan_series("CT", 1, series_number=-1), "series number"),
    ],
)
def test_bad_plan_inputs_raise_input_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accession_number": "A" * 17}, "accession_number"),
        ({"birth_date": "1970-01-02"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"study_instance_uid": ""}, "Study Instance UID"),
        ({"study_instance_uid": "1.2.abc"}, "study_instance_uid"),
        ({"mpps_uid": "1..2"}, "mpps_uid"),
        ({"station_ae": "A_VERY_LONG_AE_TITLE"}, "station_ae"),
        ({"patient_name": "X" * 65}, "patient_name"),
    ],
)
def test_bad_context_raises_input_error(
    ct_plan: SeriesPlan, changes: dict[str, Any], message: str
) -> None:
    ctx = dataclasses.replace(CONTEXT, **changes)
    with pytest.raises(InputError, match=message):
        generate_series(ctx, ct_plan)  # raised at the call, before any image


@pytest.mark.parametrize(
    ("kwargs", "plan_changes", "message"),
    [
        ({"transfer_syntax": JPEGBaseline8Bit}, {}, "unsupported transfer syntax"),
        ({"transfer_syntax": "1.2.3.4"}, {}, "unsupported transfer syntax"),
        ({"uid_root": "2.25"}, {}, "invalid UID root"),
        ({}, {"modality": "XA"}, "unknown modality"),
        ({}, {"count": 0}, "at least 1"),
        ({}, {"series_instance_uid": "not-a-uid"}, "series_instance_uid"),
    ],
)
def test_bad_generate_inputs_raise_input_error(
    ct_plan: SeriesPlan, kwargs: dict[str, str], plan_changes: dict[str, Any], message: str
) -> None:
    plan = dataclasses.replace(ct_plan, **plan_changes)
    with pytest.raises(InputError, match=message):
        generate_series(CONTEXT, plan, **kwargs)
