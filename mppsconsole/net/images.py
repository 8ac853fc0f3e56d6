"""Realistic, valid test images for IHE RAD-8 (Modality Images Stored).

The console plays the modality: after starting a procedure step it stores the
images of that step. A PACS under test judges those images the way it judges a
real modality's: by their IOD (mandatory modules present, enumerated values
right), by the patient, study and request attributes copied from the worklist
(IHE RAD TF-2 Appendix A), and by what a radiologist sees. So every image here
is a complete instance of its modality's IOD that passes dicom3tools'
``dciodvfy``, carries the step's identifiers unchanged, and shows a phantom with
the patient's name and the study date burned in, plus a marker that differs
from image to image so that a viewer proves it shows the right one.

Everything that differs between modalities lives in one table (``_MODALITIES``):
the IOD's extra modules, fixed attribute values, matrix, bit depth and the
phantom's anatomy. One code path builds all of them.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom import config as pydicom_config
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.encoders.base import get_encoder
from pydicom.pixels.utils import compress
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    generate_uid,
)
from pydicom.valuerep import validate_value
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole import __version__
from mppsconsole.core.dicomtime import format_da, format_tm
from mppsconsole.core.errors import InputError
from mppsconsole.net import font
from mppsconsole.net.datasets import UTF8

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
PixelArray = npt.NDArray[np.uint8] | npt.NDArray[np.uint16]

MANUFACTURER = "MPPS Console"
MODEL_NAME = "Test image generator"
# SH, 16 characters at most.
IMPLEMENTATION_VERSION = f"MPPSCONSOLE_{__version__}"[:16]


@dataclasses.dataclass(frozen=True)
class ImageContext:
    """Patient/study/request attributes that every image of a step carries.

    IHE RAD TF-2 Appendix A: what the worklist and the MPPS said about the
    patient, the order and the step goes into every image unchanged. Empty
    strings stay empty (Type 2) or leave optional attributes out. ``station_ae``
    becomes the file meta Source Application Entity Title; ``study_datetime`` is
    the Study Date/Time and the Performed Procedure Step Start Date/Time, so
    pass the step's start to make images and MPPS agree.
    """

    patient_name: str
    patient_id: str
    study_instance_uid: str
    birth_date: str = ""
    sex: str = ""
    accession_number: str = ""
    study_id: str = ""
    study_description: str = ""
    referring_physician: str = ""
    requested_procedure_id: str = ""
    requested_procedure_description: str = ""
    scheduled_step_id: str = ""
    scheduled_step_description: str = ""
    mpps_uid: str = ""  # -> Referenced Performed Procedure Step Sequence
    performed_step_id: str = ""
    station_ae: str = ""
    station_name: str = ""
    operator: str = ""
    institution: str = "MPPS Console"
    study_datetime: datetime.datetime | None = None  # default: now


MODALITIES: tuple[str, ...] = ("CT", "MR", "CR", "DX", "US", "SC")

#: The transfer syntaxes a user picks for generated images (CLI choice -> UID).
TRANSFER_SYNTAX_CHOICES: dict[str, str] = {
    "explicit": ExplicitVRLittleEndian,
    "rle": RLELossless,
}


@dataclasses.dataclass(frozen=True)
class SeriesPlan:
    """One series to generate: decided before the first image so that the MPPS
    N-SET can name the series and the caller can show progress out of ``count``."""

    modality: str
    count: int
    series_instance_uid: str
    series_number: int
    protocol_name: str
    series_description: str


# --------------------------------------------------------------------------- tables


Tissue = Literal["body", "organ", "bone"]


@dataclasses.dataclass(frozen=True)
class _Ellipse:
    """An ellipse of the phantom in coordinates that run from -1 to 1 across the image."""

    cx: float
    cy: float
    rx: float
    ry: float
    tissue: Tissue = "body"
    breathes: bool = False  # its size changes from image to image (lungs, ventricles)


@dataclasses.dataclass(frozen=True)
class _Sector:
    """An ultrasound fan: apex at the top centre, ``half_angle`` degrees each side."""

    half_angle: float
    near: float  # radii as fractions of the image height
    far: float


@dataclasses.dataclass(frozen=True)
class _Anatomy:
    """What the phantom shows: an outline filled with body tissue (plus a
    gradient), parts drawn over it in order, and an insert of bright rings that
    shows sharpness and aspect ratio at a glance."""

    outline: _Ellipse | _Sector
    parts: tuple[_Ellipse, ...]
    rings: tuple[float, float, float]  # cx, cy, radius
    ring_count: int = 4
    vessel: _Ellipse | None = None  # coloured as flow in RGB images


@dataclasses.dataclass(frozen=True)
class _Look:
    """Stored pixel values of the phantom's tissues in one modality."""

    background: int
    body: int
    organ: int
    bone: int
    gradient: float  # added across the body from left to right
    noise: float  # standard deviation of additive Gaussian noise
    speckle: bool = False  # multiplicative Rayleigh speckle of unit mean (ultrasound)

    def level(self, tissue: Tissue) -> int:
        return {"body": self.body, "organ": self.organ, "bone": self.bone}[tissue]


@dataclasses.dataclass(frozen=True)
class _Image:
    """Everything one image's modules are written from."""

    ctx: ImageContext
    plan: SeriesPlan
    modality: str  # key of _MODALITIES
    spec: _Modality
    number: int
    study_start: datetime.datetime
    series_start: datetime.datetime
    created: datetime.datetime
    sop_instance_uid: str
    frame_of_reference_uid: str


Module = Callable[[Dataset, _Image], None]


@dataclasses.dataclass(frozen=True)
class _Modality:
    """One row of the modality table: what its IOD needs beyond the common modules."""

    sop_class_uid: str
    dicom_modality: str  # General Series Modality: Secondary Capture images are "OT"
    rows: int
    columns: int
    bits_stored: int
    photometric: str
    protocol_name: str
    series_description: str
    body_part: str
    image_type: tuple[str, ...]
    pixel_spacing: float  # mm
    anatomy: _Anatomy
    look: _Look
    modules: tuple[Module, ...]
    attributes: Mapping[str, Any]
    window: tuple[int, int] | None = None  # centre, width, in rescaled units
    rescale: tuple[int, int, str] | None = None  # intercept, slope, type

    @property
    def bits_allocated(self) -> int:
        return 8 if self.bits_stored <= 8 else 16

    @property
    def ink(self) -> int:
        """The brightest stored value: burned-in text."""
        return int(2**self.bits_stored - 1)


# Anatomies, coordinates from -1 (left / top) to 1 (right / bottom).
_TRUNK = _Anatomy(
    outline=_Ellipse(0.0, 0.05, 0.86, 0.62),
    parts=(
        _Ellipse(-0.4, -0.05, 0.24, 0.34, "organ", breathes=True),
        _Ellipse(0.4, -0.05, 0.24, 0.34, "organ", breathes=True),
        _Ellipse(0.0, 0.48, 0.11, 0.1, "bone"),
        _Ellipse(0.0, 0.48, 0.06, 0.055, "body"),
    ),
    rings=(0.0, 0.05, 0.13),
)
_HEAD = _Anatomy(
    outline=_Ellipse(0.0, 0.0, 0.74, 0.9),
    parts=(
        _Ellipse(0.0, 0.0, 0.74, 0.9, "bone"),
        _Ellipse(0.0, 0.0, 0.68, 0.84, "body"),
        _Ellipse(-0.16, -0.1, 0.1, 0.3, "organ", breathes=True),
        _Ellipse(0.16, -0.1, 0.1, 0.3, "organ", breathes=True),
    ),
    rings=(0.0, 0.45, 0.14),
)
_CHEST_PA = _Anatomy(
    outline=_Ellipse(0.0, 0.2, 0.9, 1.05),
    parts=(
        _Ellipse(-0.38, -0.05, 0.28, 0.6, "organ", breathes=True),
        _Ellipse(0.38, -0.05, 0.28, 0.6, "organ", breathes=True),
        _Ellipse(0.12, 0.28, 0.24, 0.22, "body"),
        _Ellipse(0.0, 0.15, 0.06, 0.95, "bone"),
    ),
    rings=(0.7, -0.75, 0.12),
)
_US_VESSEL = _Ellipse(-0.2, 0.55, 0.045, 0.045, "organ")
_ABDOMEN_US = _Anatomy(
    outline=_Sector(half_angle=38.0, near=0.08, far=0.92),
    parts=(
        _Ellipse(0.12, 0.3, 0.16, 0.12, "organ", breathes=True),
        _Ellipse(-0.2, 0.55, 0.07, 0.07, "bone"),
        _US_VESSEL,
    ),
    rings=(0.0, 0.72, 0.1),
    ring_count=3,
    vessel=_US_VESSEL,
)


# ------------------------------------------------------------------------ modules


def _da(moment: datetime.datetime) -> str:
    return format_da(moment.date())


def _patient(ds: Dataset, image: _Image) -> None:
    """Patient module: demographics exactly as the worklist gave them."""
    ctx = image.ctx
    ds.PatientName = ctx.patient_name
    ds.PatientID = ctx.patient_id
    ds.PatientBirthDate = ctx.birth_date
    ds.PatientSex = ctx.sex


def _general_study(ds: Dataset, image: _Image) -> None:
    """General Study: IHE RAD TF-2 A.1 maps the Requested Procedure to the study."""
    ctx = image.ctx
    ds.StudyInstanceUID = ctx.study_instance_uid
    ds.StudyDate = _da(image.study_start)
    ds.StudyTime = format_tm(image.study_start)
    ds.ReferringPhysicianName = ctx.referring_physician
    ds.StudyID = ctx.study_id or ctx.requested_procedure_id or ctx.accession_number
    ds.AccessionNumber = ctx.accession_number
    description = ctx.study_description or ctx.requested_procedure_description
    if description:
        ds.StudyDescription = description


def _patient_study(ds: Dataset, image: _Image) -> None:
    """Patient Study: the age at the study, which viewers show next to the name."""
    age = _age(image.ctx.birth_date, image.study_start.date())
    if age:
        ds.PatientAge = age


def _age(birth_date: str, on: datetime.date) -> str:
    """An AS value (``045Y``, ``011M``, ``020D``); empty when the birth date is unknown."""
    try:
        born = datetime.datetime.strptime(birth_date, "%Y%m%d").date()
    except ValueError:
        return ""
    if born > on:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years >= 2:
        return f"{min(years, 999):03d}Y"
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    return f"{months:03d}M" if months >= 1 else f"{(on - born).days:03d}D"


def _general_series(ds: Dataset, image: _Image) -> None:
    """General Series, with the step's identity (IHE RAD-8: PPS and request attributes)."""
    ctx, plan, spec = image.ctx, image.plan, image.spec
    ds.Modality = spec.dicom_modality
    ds.SeriesInstanceUID = plan.series_instance_uid
    ds.SeriesNumber = plan.series_number
    ds.SeriesDate = _da(image.series_start)
    ds.SeriesTime = format_tm(image.series_start)
    ds.ProtocolName = plan.protocol_name
    ds.SeriesDescription = plan.series_description
    if spec.body_part:
        ds.BodyPartExamined = spec.body_part
    if ctx.operator:
        ds.OperatorsName = ctx.operator
    _performed_step(ds, image)
    request = _request_attributes(ctx)
    if request is not None:
        ds.RequestAttributesSequence = Sequence([request])


def _performed_step(ds: Dataset, image: _Image) -> None:
    """The MPPS that produced the series, so the PACS can tie images to the step."""
    ctx = image.ctx
    ds.PerformedProcedureStepStartDate = _da(image.study_start)
    ds.PerformedProcedureStepStartTime = format_tm(image.study_start)
    if ctx.performed_step_id:
        ds.PerformedProcedureStepID = ctx.performed_step_id
    if ctx.scheduled_step_description:
        ds.PerformedProcedureStepDescription = ctx.scheduled_step_description
    if ctx.mpps_uid:
        reference = Dataset()
        reference.ReferencedSOPClassUID = ModalityPerformedProcedureStep
        reference.ReferencedSOPInstanceUID = ctx.mpps_uid
        ds.ReferencedPerformedProcedureStepSequence = Sequence([reference])


def _request_attributes(ctx: ImageContext) -> Dataset | None:
    """The Request Attributes item of IHE RAD TF-2 Table A.1-x; None when unscheduled."""
    if not (ctx.requested_procedure_id or ctx.scheduled_step_id):
        return None
    item = Dataset()
    values = {
        "RequestedProcedureID": ctx.requested_procedure_id,
        "AccessionNumber": ctx.accession_number,
        "StudyInstanceUID": ctx.study_instance_uid,
        "RequestedProcedureDescription": ctx.requested_procedure_description,
        "ScheduledProcedureStepID": ctx.scheduled_step_id,
        "ScheduledProcedureStepDescription": ctx.scheduled_step_description,
    }
    for keyword, value in values.items():
        if value:
            setattr(item, keyword, value)
    return item


def _general_equipment(ds: Dataset, image: _Image) -> None:
    ctx = image.ctx
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = __version__
    if ctx.institution:
        ds.InstitutionName = ctx.institution
    if ctx.station_name:
        ds.StationName = ctx.station_name


def _general_acquisition(ds: Dataset, image: _Image) -> None:
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate = _da(image.created)
    ds.AcquisitionTime = format_tm(image.created)


def _general_image(ds: Dataset, image: _Image) -> None:
    """General Image: the viewer-facing identity and the burned-in warning."""
    ds.ImageType = list(image.spec.image_type)
    ds.InstanceNumber = image.number
    ds.ContentDate = _da(image.created)
    ds.ContentTime = format_tm(image.created)
    ds.BurnedInAnnotation = "YES"
    ds.LossyImageCompression = "00"
    ds.ImageComments = "Synthetic test image generated by MPPS Console"


def _sop_common(ds: Dataset, image: _Image) -> None:
    ds.SOPClassUID = image.spec.sop_class_uid
    ds.SOPInstanceUID = image.sop_instance_uid
    ds.InstanceCreationDate = _da(image.created)
    ds.InstanceCreationTime = format_tm(image.created)
    offset = image.created.strftime("%z")
    if offset:
        ds.TimezoneOffsetFromUTC = offset


def _frame_of_reference(ds: Dataset, image: _Image) -> None:
    """Frame of Reference: one per series, so a viewer can link and measure slices."""
    ds.FrameOfReferenceUID = image.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""


def _image_plane(ds: Dataset, image: _Image) -> None:
    """Image Plane: axial slices stepping towards the feet, one slice thickness apart."""
    spec = image.spec
    thickness = float(spec.attributes.get("SliceThickness", 5.0))
    z = -(image.number - 1) * thickness
    ds.PixelSpacing = [spec.pixel_spacing, spec.pixel_spacing]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [
        round(-spec.columns * spec.pixel_spacing / 2, 4),
        round(-spec.rows * spec.pixel_spacing / 2, 4),
        round(z, 4),
    ]
    ds.SliceLocation = round(z, 4)


def _projection(ds: Dataset, image: _Image) -> None:
    """Projection radiography: detector pixel size and the orientation of a PA view."""
    spacing = image.spec.pixel_spacing
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.PatientOrientation = ["L", "F"]


def _voi_lut(ds: Dataset, image: _Image) -> None:
    """A default window, so that a viewer shows the phantom right away."""
    if image.spec.window is not None:
        centre, width = image.spec.window
        ds.WindowCenter = centre
        ds.WindowWidth = width
        ds.WindowCenterWidthExplanation = "DEFAULT"


def _rescale(ds: Dataset, image: _Image) -> None:
    """Modality LUT as a rescale (CT Hounsfield units, DX unity)."""
    if image.spec.rescale is not None:
        intercept, slope, kind = image.spec.rescale
        ds.RescaleIntercept = intercept
        ds.RescaleSlope = slope
        ds.RescaleType = kind


def _dx_anatomy(ds: Dataset, image: _Image) -> None:
    """DX Anatomy Imaged: laterality and the coded anatomic region (CID 4031)."""
    ds.ImageLaterality = "U"
    region = Dataset()
    region.CodeValue = "51185008"
    region.CodingSchemeDesignator = "SCT"
    region.CodeMeaning = "Chest"
    ds.AnatomicRegionSequence = Sequence([region])


def _dx_positioning(ds: Dataset, image: _Image) -> None:
    """DX Positioning: a chest stand, and the PA view coded as well as named (CID 4010)."""
    ds.PositionerType = "COLUMN"
    ds.ViewPosition = "PA"
    view = Dataset()
    view.CodeValue = "399348003"
    view.CodingSchemeDesignator = "SCT"
    view.CodeMeaning = "postero-anterior"
    view.ViewModifierCodeSequence = Sequence()
    ds.ViewCodeSequence = Sequence([view])


def _acquisition_context(ds: Dataset, image: _Image) -> None:
    """Acquisition Context: mandatory in DX, empty when nothing is known."""
    ds.AcquisitionContextSequence = Sequence()


def _us_region_calibration(ds: Dataset, image: _Image) -> None:
    """US Region Calibration: lets a viewer measure in cm on the sector image."""
    spec = image.spec
    region = Dataset()
    region.RegionSpatialFormat = 1  # 2D
    region.RegionDataType = 1  # tissue
    region.RegionFlags = 0
    region.RegionLocationMinX0 = 0
    region.RegionLocationMinY0 = 0
    region.RegionLocationMaxX1 = spec.columns - 1
    region.RegionLocationMaxY1 = spec.rows - 1
    region.PhysicalUnitsXDirection = 3  # cm
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = spec.pixel_spacing / 10
    region.PhysicalDeltaY = spec.pixel_spacing / 10
    region.ReferencePixelX0 = spec.columns // 2
    region.ReferencePixelY0 = 0
    ds.SequenceOfUltrasoundRegions = Sequence([region])


def _sc_image(ds: Dataset, image: _Image) -> None:
    """SC Image: when the (synthetic) capture happened."""
    ds.DateOfSecondaryCapture = _da(image.created)
    ds.TimeOfSecondaryCapture = format_tm(image.created)
    ds.SecondaryCaptureDeviceManufacturer = MANUFACTURER
    ds.SecondaryCaptureDeviceManufacturerModelName = MODEL_NAME
    ds.SecondaryCaptureDeviceSoftwareVersions = __version__


_COMMON_MODULES: tuple[Module, ...] = (
    _patient,
    _general_study,
    _patient_study,
    _general_series,
    _general_equipment,
    _general_acquisition,
    _general_image,
    _sop_common,
)
_CROSS_SECTION: tuple[Module, ...] = (_frame_of_reference, _image_plane, _voi_lut, _rescale)
_RADIOGRAPH: tuple[Module, ...] = (_projection, _voi_lut, _rescale)

_MODALITIES: dict[str, _Modality] = {
    "CT": _Modality(
        sop_class_uid=CTImageStorage,
        dicom_modality="CT",
        rows=512,
        columns=512,
        bits_stored=12,
        photometric="MONOCHROME2",
        protocol_name="CT CHEST ABDOMEN",
        series_description="Axial 5.0 mm",
        body_part="CHEST",
        image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
        pixel_spacing=0.683594,
        anatomy=_TRUNK,
        look=_Look(background=24, body=1064, organ=200, bone=2024, gradient=60, noise=12),
        modules=_CROSS_SECTION,
        window=(40, 400),
        rescale=(-1024, 1, "HU"),
        attributes={
            "PatientPosition": "HFS",
            "SliceThickness": 5.0,
            "KVP": 120,
            "ScanOptions": "HELICAL",
            "DataCollectionDiameter": 500,
            "ReconstructionDiameter": 350,
            "DistanceSourceToDetector": 1040,
            "DistanceSourceToPatient": 570,
            "GantryDetectorTilt": 0,
            "TableHeight": 160,
            "RotationDirection": "CW",
            "ExposureTime": 1000,
            "XRayTubeCurrent": 250,
            "Exposure": 250,
            "FilterType": "BODY",
            "ConvolutionKernel": "STANDARD",
        },
    ),
    "MR": _Modality(
        sop_class_uid=MRImageStorage,
        dicom_modality="MR",
        rows=256,
        columns=256,
        bits_stored=12,
        photometric="MONOCHROME2",
        protocol_name="MR BRAIN T2",
        series_description="T2 TSE axial",
        body_part="HEAD",
        image_type=("ORIGINAL", "PRIMARY", "OTHER"),
        pixel_spacing=0.898438,
        anatomy=_HEAD,
        look=_Look(background=8, body=1300, organ=2700, bone=250, gradient=150, noise=25),
        modules=_CROSS_SECTION,
        window=(1500, 3000),
        attributes={
            "PatientPosition": "HFS",
            "SliceThickness": 5.0,
            "SpacingBetweenSlices": 5.0,
            "ScanningSequence": "SE",
            "SequenceVariant": "SK",
            "ScanOptions": "",
            "MRAcquisitionType": "2D",
            "SequenceName": "TSE2D1_16",
            "AngioFlag": "N",
            "RepetitionTime": 4000,
            "EchoTime": 90,
            "EchoTrainLength": 16,
            "NumberOfAverages": 2,
            "ImagingFrequency": 63.87,
            "ImagedNucleus": "1H",
            "EchoNumbers": 1,
            "MagneticFieldStrength": 1.5,
            "FlipAngle": 150,
            "PixelBandwidth": 200,
            "ReceiveCoilName": "HEAD",
            "TransmitCoilName": "BODY",
        },
    ),
    "CR": _Modality(
        sop_class_uid=ComputedRadiographyImageStorage,
        dicom_modality="CR",
        rows=1024,
        columns=880,
        bits_stored=12,
        photometric="MONOCHROME2",
        protocol_name="CHEST PA",
        series_description="Chest PA",
        body_part="CHEST",
        image_type=("ORIGINAL", "PRIMARY"),
        pixel_spacing=0.4,
        anatomy=_CHEST_PA,
        look=_Look(background=150, body=1900, organ=800, bone=3300, gradient=200, noise=20),
        modules=_RADIOGRAPH,
        window=(2048, 4096),
        attributes={
            "ViewPosition": "PA",
            "KVP": 120,
            "ExposureTime": 20,
            "XRayTubeCurrent": 250,
            "DistanceSourceToDetector": 1800,
            "PlateType": "STANDARD",
        },
    ),
    "DX": _Modality(
        sop_class_uid=DigitalXRayImageStorageForPresentation,
        dicom_modality="DX",
        rows=1024,
        columns=1024,
        bits_stored=14,
        photometric="MONOCHROME2",
        protocol_name="CHEST PA",
        series_description="Chest PA",
        body_part="CHEST",
        image_type=("ORIGINAL", "PRIMARY"),
        pixel_spacing=0.42,
        anatomy=_CHEST_PA,
        look=_Look(background=600, body=7600, organ=3200, bone=13200, gradient=800, noise=80),
        modules=(*_RADIOGRAPH, _dx_anatomy, _dx_positioning, _acquisition_context),
        window=(8192, 16384),
        rescale=(0, 1, "US"),
        attributes={
            "PresentationIntentType": "FOR PRESENTATION",
            "PixelIntensityRelationship": "LOG",
            "PixelIntensityRelationshipSign": -1,
            "PresentationLUTShape": "IDENTITY",
            "DetectorType": "SCINTILLATOR",
            "DetectorConfiguration": "AREA",
            "KVP": 125,
            "ExposureTime": 10,
            "XRayTubeCurrent": 320,
            "DistanceSourceToDetector": 1800,
        },
    ),
    "US": _Modality(
        sop_class_uid=UltrasoundImageStorage,
        dicom_modality="US",
        rows=480,
        columns=640,
        bits_stored=8,
        photometric="RGB",
        protocol_name="ABDOMEN",
        series_description="Abdomen B-mode with colour flow",
        body_part="ABDOMEN",
        image_type=("ORIGINAL", "PRIMARY", "ABDOMINAL", "0001"),
        pixel_spacing=0.3,
        anatomy=_ABDOMEN_US,
        look=_Look(background=0, body=85, organ=10, bone=180, gradient=25, noise=0, speckle=True),
        modules=(_us_region_calibration,),
        attributes={
            "PatientOrientation": "",
            "TransducerData": ["C5-2", "", ""],
            "ProcessingFunction": "ABDOMEN",
            "MechanicalIndex": 0.9,
            "BoneThermalIndex": 0.3,
            "CranialThermalIndex": 0.2,
            "SoftTissueThermalIndex": 0.4,
        },
    ),
    "SC": _Modality(
        sop_class_uid=SecondaryCaptureImageStorage,
        dicom_modality="OT",
        rows=480,
        columns=640,
        bits_stored=8,
        photometric="MONOCHROME2",
        protocol_name="SCREEN CAPTURE",
        series_description="Secondary capture",
        body_part="CHEST",
        image_type=("DERIVED", "SECONDARY"),
        pixel_spacing=0.5,
        anatomy=_TRUNK,
        look=_Look(background=0, body=130, organ=50, bone=225, gradient=40, noise=0),
        modules=(_sc_image,),
        attributes={"PatientOrientation": "", "ConversionType": "SYN"},
    ),
}
assert tuple(_MODALITIES) == MODALITIES


# --------------------------------------------------------------------------- pixels


@functools.lru_cache(maxsize=8)
def _grid(rows: int, columns: int) -> tuple[FloatArray, FloatArray]:
    """Pixel-centre coordinates from -1 to 1 (x across, y down), shared by all shapes."""
    y = ((np.arange(rows, dtype=np.float32) + 0.5) / rows * 2 - 1)[:, None]
    x = ((np.arange(columns, dtype=np.float32) + 0.5) / columns * 2 - 1)[None, :]
    return np.broadcast_to(x, (rows, columns)), np.broadcast_to(y, (rows, columns))


def _ellipse(shape: _Ellipse, rows: int, columns: int, grow: float = 1.0) -> BoolArray:
    """Mask of an ellipse, computed on its bounding box only (this is the hot path)."""
    mask = np.zeros((rows, columns), dtype=np.bool_)
    rx, ry = shape.rx * grow, shape.ry * grow
    top = max(0, int((shape.cy - ry + 1) / 2 * rows))
    bottom = min(rows, math.ceil((shape.cy + ry + 1) / 2 * rows) + 1)
    left = max(0, int((shape.cx - rx + 1) / 2 * columns))
    right = min(columns, math.ceil((shape.cx + rx + 1) / 2 * columns) + 1)
    if top >= bottom or left >= right:
        return mask
    x, y = _grid(rows, columns)
    dx = (x[top:bottom, left:right] - shape.cx) / rx
    dy = (y[top:bottom, left:right] - shape.cy) / ry
    mask[top:bottom, left:right] = dx * dx + dy * dy <= 1.0
    return mask


def _sector(shape: _Sector, rows: int, columns: int) -> BoolArray:
    """Mask of an ultrasound fan whose apex is at the top centre of the image."""
    ys, xs = np.mgrid[0:rows, 0:columns].astype(np.float32)
    dx, dy = xs - columns / 2, ys
    radius = np.hypot(dx, dy) / rows
    angle = np.degrees(np.arctan2(np.abs(dx), np.maximum(dy, 1e-6)))
    mask: BoolArray = (angle <= shape.half_angle) & (radius >= shape.near) & (radius <= shape.far)
    return mask


def _rings(cx: float, cy: float, radius: float, count: int, rows: int, columns: int) -> BoolArray:
    """Mask of the bright bands of a ring insert (``count`` rings inside ``radius``)."""
    x, y = _grid(rows, columns)
    distance = np.hypot(x - cx, (y - cy) * rows / columns)
    band = np.floor(distance / radius * count * 2).astype(np.int32)
    mask: BoolArray = (distance <= radius) & (band % 2 == 0)
    return mask


@dataclasses.dataclass(frozen=True)
class _Background:
    """The parts of a modality's phantom that are the same in every image."""

    image: FloatArray  # the outline filled with body tissue and the gradient
    parts: tuple[BoolArray | None, ...]  # the static parts' masks; None for breathing ones
    rings: BoolArray


@functools.lru_cache(maxsize=len(MODALITIES))
def _background(modality: str) -> _Background:
    """Compute the static masks once per modality; images then only add what changes."""
    spec = _MODALITIES[modality]
    rows, columns, look, anatomy = spec.rows, spec.columns, spec.look, spec.anatomy
    if isinstance(anatomy.outline, _Sector):
        outline = _sector(anatomy.outline, rows, columns)
    else:
        outline = _ellipse(anatomy.outline, rows, columns)
    x, _ = _grid(rows, columns)
    image = np.full((rows, columns), look.background, dtype=np.float32)
    image[outline] = (look.body + look.gradient * x)[outline]
    parts = tuple(
        None if part.breathes else _ellipse(part, rows, columns) for part in anatomy.parts
    )
    rings = _rings(*anatomy.rings, anatomy.ring_count, rows, columns)
    for array in (image, rings, *(mask for mask in parts if mask is not None)):
        array.setflags(write=False)
    return _Background(image, parts, rings)


def _breath(number: int) -> float:
    """Size of the breathing parts in image ``number``: differs between neighbours."""
    return 0.8 + 0.2 * math.sin(number * 0.7)


def _phantom(image: _Image, seed: int) -> FloatArray:
    """The phantom of one image: static background, breathing parts, noise."""
    spec, look = image.spec, image.spec.look
    background = _background(image.modality)
    phantom = background.image.copy()
    grow = _breath(image.number)
    for part, mask in zip(spec.anatomy.parts, background.parts, strict=True):
        drawn = _ellipse(part, spec.rows, spec.columns, grow) if mask is None else mask
        phantom[drawn] = look.level(part.tissue)
    phantom[background.rings] = look.bone
    rng = np.random.default_rng(seed)
    if look.speckle:
        unit_mean = math.sqrt(2 / math.pi)
        phantom *= rng.rayleigh(unit_mean, size=phantom.shape).astype(np.float32)
    if look.noise:
        phantom += rng.standard_normal(phantom.shape, dtype=np.float32) * np.float32(look.noise)
    return phantom


def _text(
    image: PixelArray, text: str, top: int, left: int, ink: int, scale: int, right: int
) -> None:
    """Burn ``text`` in at (top, left) on a black plate, clipped at column ``right``."""
    mask = font.render(text, scale)
    pad = scale
    height = min(mask.shape[0], image.shape[0] - top - pad)
    width = min(mask.shape[1], right - left - pad)
    if height <= 0 or width <= 0:
        return
    image[max(0, top - pad) : top + height + pad, max(0, left - pad) : left + width + pad] = 0
    image[top : top + height, left : left + width][mask[:height, :width]] = ink


def _annotate(image: PixelArray, lines: _Annotation, ink: int) -> None:
    """Corner annotations as on a modality console, and the image-number bar."""
    rows, columns = image.shape[:2]
    scale = max(1, min(rows, columns) // 256)
    margin = 4 * scale
    step = (font.GLYPH_HEIGHT + 4) * scale
    lefts = [columns - margin - font.text_width(len(text), scale) for text in lines.top_right]
    for index, text in enumerate(lines.top_left):
        # A long name stops short of the top-right block instead of running under it.
        right = lefts[index] - font.ADVANCE * scale if index < len(lefts) else columns
        _text(image, text, margin + index * step, margin, ink, scale, right)
    for index, text in enumerate(lines.top_right):
        _text(image, text, margin + index * step, max(margin, lefts[index]), ink, scale, columns)
    bar_top = rows - margin - 3 * scale
    _text(image, lines.bottom_left, bar_top - step, margin, ink, scale, columns)
    track = columns - 2 * margin
    image[bar_top - scale : bar_top + 4 * scale, margin - scale : columns - margin + scale] = 0
    filled = max(scale, round(track * lines.number / max(lines.count, 1)))
    image[bar_top : bar_top + 3 * scale, margin : margin + filled] = ink


@dataclasses.dataclass(frozen=True)
class _Annotation:
    top_left: tuple[str, ...]
    top_right: tuple[str, ...]
    bottom_left: str
    number: int
    count: int


def _annotation(image: _Image) -> _Annotation:
    """What a technologist would see burned in: who, when, which image."""
    ctx, plan = image.ctx, image.plan
    top_left = [ctx.patient_name, f"ID {ctx.patient_id}"]
    if ctx.accession_number:
        top_left.append(f"ACC {ctx.accession_number}")
    top_left.append(f"{image.study_start:%Y-%m-%d %H:%M}")
    return _Annotation(
        top_left=tuple(top_left),
        top_right=("TEST IMAGE", image.spec.dicom_modality),
        bottom_left=f"SE {plan.series_number} IM {image.number}/{plan.count}",
        number=image.number,
        count=plan.count,
    )


def _colour(gray: npt.NDArray[np.uint8], image: _Image) -> npt.NDArray[np.uint8]:
    """RGB: the grey image with the vessel in colour flow (red towards, blue away)."""
    spec = image.spec
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    vessel = spec.anatomy.vessel
    if vessel is None:
        return rgb
    lumen = _ellipse(vessel, spec.rows, spec.columns)
    _, y = _grid(spec.rows, spec.columns)
    strength = 150 + int(100 * abs(math.sin(image.number * 0.9)))  # pulsing: differs per image
    rgb[lumen & (y < vessel.cy)] = (strength, 30, 20)
    rgb[lumen & (y >= vessel.cy)] = (20, 40, strength)
    return rgb


def _pixels(image: _Image) -> PixelArray:
    """The stored pixel values of one image, annotations burned in.

    The noise is seeded from the series and image numbers, so the same context
    and plan give the same pixels: tests and users can compare runs.
    """
    spec = image.spec
    seed = zlib.crc32(f"{image.plan.series_number}/{image.number}".encode())
    phantom = _phantom(image, seed)
    np.clip(phantom, 0, spec.ink - 1, out=phantom)
    gray: PixelArray = (
        phantom.astype(np.uint8) if spec.bits_allocated == 8 else phantom.astype(np.uint16)
    )
    _annotate(gray, _annotation(image), spec.ink)
    if spec.photometric == "RGB":
        return _colour(gray.astype(np.uint8, copy=False), image)
    return gray


# --------------------------------------------------------------------- validation

_NATIVE = frozenset(
    {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}
)
#: Lossless only: a lossy copy would have to say so (Lossy Image Compression 01, ratio, method).
_ENCAPSULATED = frozenset({RLELossless})
_UID_ROOT = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\.$")
_MAX_UID_ROOT = 54  # leaves at least ten digits of the 64 for uniqueness (pydicom's limit too)

#: ImageContext field -> the attribute it becomes, whose VR the value must satisfy.
_CONTEXT_KEYWORDS = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "study_instance_uid": "StudyInstanceUID",
    "birth_date": "PatientBirthDate",
    "sex": "PatientSex",
    "accession_number": "AccessionNumber",
    "study_id": "StudyID",
    "study_description": "StudyDescription",
    "referring_physician": "ReferringPhysicianName",
    "requested_procedure_id": "RequestedProcedureID",
    "requested_procedure_description": "RequestedProcedureDescription",
    "scheduled_step_id": "ScheduledProcedureStepID",
    "scheduled_step_description": "ScheduledProcedureStepDescription",
    "mpps_uid": "ReferencedSOPInstanceUID",
    "performed_step_id": "PerformedProcedureStepID",
    "station_ae": "SourceApplicationEntityTitle",
    "station_name": "StationName",
    "operator": "OperatorsName",
    "institution": "InstitutionName",
}
_PLAN_KEYWORDS = {
    "series_instance_uid": "SeriesInstanceUID",
    "protocol_name": "ProtocolName",
    "series_description": "SeriesDescription",
}


def _modality(modality: str) -> str:
    code = modality.strip().upper()
    if code not in _MODALITIES:
        raise InputError(f"unknown modality {modality!r} (expected one of {', '.join(MODALITIES)})")
    return code


def _check_count(count: int) -> None:
    if count < 1:
        raise InputError(f"image count must be at least 1, not {count}")


def _check_uid_root(uid_root: str | None) -> None:
    """A root must be a UID prefix that leaves room for unique digits."""
    if uid_root is None:
        return
    if not _UID_ROOT.match(uid_root):
        raise InputError(
            f"invalid UID root {uid_root!r}: digits separated by dots, no leading zeros, "
            "ending with a dot (e.g. 1.2.826.0.1.3680043.10.1234.)"
        )
    if len(uid_root) > _MAX_UID_ROOT:
        raise InputError(
            f"UID root {uid_root!r} is {len(uid_root)} characters long; at most "
            f"{_MAX_UID_ROOT} leave room for unique UIDs of 64 characters"
        )


def _check_transfer_syntax(transfer_syntax: str) -> UID:
    uid = UID(transfer_syntax)
    if uid in _NATIVE:
        return uid
    if uid in _ENCAPSULATED and get_encoder(uid).is_available:
        return uid
    supported = ", ".join(sorted(u.name for u in _NATIVE | _ENCAPSULATED))
    raise InputError(f"unsupported transfer syntax {uid.name!r} for test images ({supported})")


def _check_value(where: str, keyword: str, value: str) -> None:
    """The value must fit the VR of the attribute it becomes; say which one does not."""
    if not value:
        return
    try:
        validate_value(dictionary_VR(keyword), value, pydicom_config.RAISE)
    except ValueError as exc:
        reason = str(exc).split(" Please see")[0]
        raise InputError(f"{where}: {reason}") from None


def _check_context(ctx: ImageContext) -> None:
    if not ctx.study_instance_uid:
        raise InputError("image context: the Study Instance UID is required")
    for field, keyword in _CONTEXT_KEYWORDS.items():
        _check_value(f"image context {field}", keyword, getattr(ctx, field))
    if ctx.sex not in ("", "M", "F", "O"):
        raise InputError(f"image context sex: {ctx.sex!r} is not M, F, O or empty")


def _check_plan(plan: SeriesPlan) -> str:
    modality = _modality(plan.modality)
    _check_count(plan.count)
    if not plan.series_instance_uid:
        raise InputError("series plan: the Series Instance UID is required")
    for field, keyword in _PLAN_KEYWORDS.items():
        _check_value(f"series plan {field}", keyword, getattr(plan, field))
    if not 0 <= plan.series_number <= 2**31 - 1:
        raise InputError(f"series number {plan.series_number} out of range")
    return modality


# ------------------------------------------------------------------------ public


def plan_series(
    modality: str, count: int, *, uid_root: str | None = None, series_number: int = 1
) -> SeriesPlan:
    """Decide a series before generating it: its UID, number and protocol.

    The MPPS N-SET COMPLETED names the performed series, and a progress bar
    needs ``count``: both are known before the first image is made.
    """
    code = _modality(modality)
    _check_count(count)
    _check_uid_root(uid_root)
    if series_number < 0:
        raise InputError(f"series number must not be negative, not {series_number}")
    spec = _MODALITIES[code]
    return SeriesPlan(
        modality=code,
        count=count,
        series_instance_uid=generate_uid(prefix=uid_root),
        series_number=series_number,
        protocol_name=spec.protocol_name,
        series_description=spec.series_description,
    )


def generate_series(
    ctx: ImageContext,
    plan: SeriesPlan,
    *,
    uid_root: str | None = None,
    transfer_syntax: str = pydicom.uid.ExplicitVRLittleEndian,
) -> Iterator[Dataset]:
    """Yield the ``plan.count`` images of the series, one at a time.

    Inputs are checked now, before the first image, so that a bad value is an
    :class:`InputError` at the call rather than in the middle of a transfer.
    Images are made lazily so that a caller can show progress and stream them
    to a peer without holding the series in memory. Each dataset has its file
    meta information for ``transfer_syntax``, so
    ``ds.save_as(path, enforce_file_format=True)`` writes a valid Part 10 file.
    """
    modality = _check_plan(plan)
    _check_context(ctx)
    _check_uid_root(uid_root)
    syntax = _check_transfer_syntax(transfer_syntax)
    return _images(ctx, plan, modality, uid_root, syntax)


def _images(
    ctx: ImageContext, plan: SeriesPlan, modality: str, uid_root: str | None, syntax: UID
) -> Iterator[Dataset]:
    spec = _MODALITIES[modality]
    series_start = datetime.datetime.now().astimezone()
    study_start = ctx.study_datetime or series_start
    if study_start.tzinfo is not None:
        study_start = study_start.astimezone()  # the same clock as the other times
    frame_of_reference_uid = generate_uid(prefix=uid_root)
    for number in range(1, plan.count + 1):
        image = _Image(
            ctx=ctx,
            plan=plan,
            modality=modality,
            spec=spec,
            number=number,
            study_start=study_start,
            series_start=series_start,
            created=datetime.datetime.now().astimezone(),
            sop_instance_uid=generate_uid(prefix=uid_root),
            frame_of_reference_uid=frame_of_reference_uid,
        )
        yield _dataset(image, syntax)


def _needs_utf8(ctx: ImageContext, plan: SeriesPlan) -> bool:
    texts = [getattr(ctx, field) for field in _CONTEXT_KEYWORDS]
    texts += [getattr(plan, field) for field in _PLAN_KEYWORDS]
    return any(not text.isascii() for text in texts)


def _file_meta(image: _Image, syntax: UID) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = UID(image.spec.sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(image.sop_instance_uid)
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    if image.ctx.station_ae:
        meta.SourceApplicationEntityTitle = image.ctx.station_ae
    return meta


def _dataset(image: _Image, syntax: UID) -> Dataset:
    """One complete image: modules, modality attributes, pixels, transfer syntax."""
    spec = image.spec
    ds = Dataset()
    if _needs_utf8(image.ctx, image.plan):
        ds.SpecificCharacterSet = UTF8
    for module in (*_COMMON_MODULES, *spec.modules):
        module(ds, image)
    for keyword, value in spec.attributes.items():
        setattr(ds, keyword, value)
    # Pixels are set natively first; compress() then encodes them and switches the syntax.
    ds.file_meta = _file_meta(image, ExplicitVRLittleEndian if syntax.is_compressed else syntax)
    ds.set_pixel_data(
        _pixels(image), spec.photometric, spec.bits_stored, generate_instance_uid=False
    )
    if syntax.is_compressed:
        compress(ds, syntax, encoding_plugin="pydicom", generate_instance_uid=False)
    return ds
