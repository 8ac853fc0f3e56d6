"""DICOM material for the benchmarks, written without MPPS Console's own code.

The SCU side of every benchmark is plain pynetdicom with TCP_NODELAY set on its
socket; the datasets (MPPS, CT images, worklist items and queries) are built
here so that contender and baselines receive byte-identical requests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
)

from bench.common import LOOPBACK
from mppsconsole.net.reactor_guard import guard_responses
from mppsconsole.net.sockets import NODELAY_HANDLER

UID_ROOT = "1.2.826.0.1.3680043.10.1417"  # a private root for benchmark data
SCU_AET = "BENCH-SCU"
#: pynetdicom's timeouts for every association a benchmark opens.
ACSE_TIMEOUT_S = 15
DIMSE_TIMEOUT_S = 10
NETWORK_TIMEOUT_S = 30

_counter = 0
_counter_lock = threading.Lock()


def uid() -> str:
    """A unique UID (process id + counter, so that rounds and processes never collide)."""
    global _counter
    import os
    import time

    with _counter_lock:
        _counter += 1
        number = _counter
    return f"{UID_ROOT}.{os.getpid()}.{int(time.time())}.{number}"


def scu_ae(*contexts: str, max_pdu: int | None = None) -> AE:
    """A requesting AE with bounded timeouts."""
    ae = AE(ae_title=SCU_AET)
    ae.acse_timeout = ACSE_TIMEOUT_S
    ae.dimse_timeout = DIMSE_TIMEOUT_S
    ae.network_timeout = NETWORK_TIMEOUT_S
    if max_pdu is not None:
        ae.maximum_pdu_size = max_pdu
    for context in contexts:
        ae.add_requested_context(context, [ExplicitVRLittleEndian])
    return ae


def associate(ae: AE, port: int, called: str, *, guard: bool = True) -> Association:
    """An established association with TCP_NODELAY; RuntimeError when refused."""
    assoc = ae.associate(LOOPBACK, port, ae_title=called, evt_handlers=[NODELAY_HANDLER])
    if not assoc.is_established:
        raise RuntimeError(f"association with {called}@{LOOPBACK}:{port} not established")
    if guard:
        guard_responses(assoc)
    return assoc


class UnexpectedCounter(logging.Handler):
    """Counts pynetdicom's "Received unexpected ... service message" (the lost responses)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if "unexpected" in record.getMessage().lower():
            with self._lock2:
                self.count += 1


def quiet_pynetdicom() -> UnexpectedCounter:
    """pynetdicom silent on the console; its warnings feed the lost-response counter."""
    logger = logging.getLogger("pynetdicom")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    counter = next((h for h in logger.handlers if isinstance(h, UnexpectedCounter)), None)
    if counter is None:
        counter = UnexpectedCounter()
        logger.addHandler(counter)
    return counter


# ----------------------------------------------------------------------- MPPS

MPPS = ModalityPerformedProcedureStep
MWL_FIND = ModalityWorklistInformationFind


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    ds = Dataset()
    ds.CodeValue = value
    ds.CodingSchemeDesignator = scheme
    ds.CodeMeaning = meaning
    return ds


def mpps_create() -> Dataset:
    """An N-CREATE attribute list of a scheduled CT step (PS3.4 Table F.7.2-1)."""
    scheduled = Dataset()
    scheduled.StudyInstanceUID = uid()
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref.ReferencedSOPInstanceUID = scheduled.StudyInstanceUID
    scheduled.ReferencedStudySequence = Sequence([ref])
    scheduled.AccessionNumber = "A000123456"
    scheduled.RequestedProcedureID = "RP000123"
    scheduled.RequestedProcedureDescription = "CT chest with contrast"
    scheduled.ScheduledProcedureStepID = "SPS000123"
    scheduled.ScheduledProcedureStepDescription = "CT chest with contrast"
    scheduled.ScheduledProtocolCodeSequence = Sequence([_code("CT-CHEST", "99BENCH", "CT chest")])
    ds = Dataset()
    ds.ScheduledStepAttributesSequence = Sequence([scheduled])
    ds.PatientName = "Bench^Patient"
    ds.PatientID = "BENCH0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.ReferencedPatientSequence = Sequence()
    ds.PerformedProcedureStepID = "PPS0001"
    ds.PerformedStationAETitle = SCU_AET
    ds.PerformedStationName = "CT01"
    ds.PerformedLocation = "Radiology 1"
    ds.PerformedProcedureStepStartDate = "20261121"
    ds.PerformedProcedureStepStartTime = "093000"
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepDescription = "CT chest with contrast"
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = Sequence()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = "CT"
    ds.StudyID = "RP000123"
    ds.PerformedProtocolCodeSequence = Sequence([_code("CT-CHEST", "99BENCH", "CT chest")])
    ds.PerformedSeriesSequence = Sequence()
    return ds


def mpps_complete(images: int = 20) -> Dataset:
    """An N-SET COMPLETED with one performed series of ``images`` references."""
    series = Dataset()
    series.PerformingPhysicianName = ""
    series.ProtocolName = "CT chest"
    series.OperatorsName = "Tech^Tina"
    series.SeriesInstanceUID = uid()
    series.SeriesDescription = "Axial 1 mm"
    series.RetrieveAETitle = "MPPSCONSOLE"
    refs = []
    for _ in range(images):
        ref = Dataset()
        ref.ReferencedSOPClassUID = CTImageStorage
        ref.ReferencedSOPInstanceUID = uid()
        refs.append(ref)
    series.ReferencedImageSequence = Sequence(refs)
    series.ReferencedNonImageCompositeSOPInstanceSequence = Sequence()
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "COMPLETED"
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "094500"
    ds.PerformedSeriesSequence = Sequence([series])
    return ds


def status_of(status: Dataset | None) -> int | None:
    """The Status of a response, None when no response came (DIMSE timeout, abort)."""
    if status is None:
        return None
    value = getattr(status, "Status", None)
    return int(value) if value is not None else None


# ------------------------------------------------------------------------- CT


def ct_image(size: int = 512, seed: int = 1) -> Dataset:
    """One realistic 16-bit CT slice (body, lungs, spine, table), Explicit VR Little Endian."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    hu = np.full((size, size), -1000.0, dtype=np.float32)
    body = (x / 0.42) ** 2 + (y / 0.30) ** 2 <= 1
    hu[body] = 40.0
    for cx in (-0.17, 0.17):
        hu[((x - cx) / 0.13) ** 2 + ((y + 0.02) / 0.2) ** 2 <= 1] = -850.0
    hu[(x / 0.05) ** 2 + ((y - 0.2) / 0.05) ** 2 <= 1] = 700.0  # vertebra
    hu[(np.abs(y - 0.36) < 0.01) & (np.abs(x) < 0.45)] = 200.0  # table
    hu += rng.normal(0, 12, hu.shape).astype(np.float32)
    stored = np.clip(hu + 1024, 0, 4095).astype(np.uint16)

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = uid()
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20261121"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.AccessionNumber = "A000123456"
    ds.Modality = "CT"
    ds.Manufacturer = "MPPS Console bench"
    ds.InstitutionName = "Radiology 1"
    ds.ReferringPhysicianName = "Ref^Rita"
    ds.StationName = "CT01"
    ds.StudyDescription = "CT chest with contrast"
    ds.SeriesDescription = "Axial 1 mm"
    ds.PatientName = "Bench^Patient"
    ds.PatientID = "BENCH0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.SliceThickness = "1.0"
    ds.KVP = "120"
    ds.ConvolutionKernel = "STANDARD"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = uid()
    ds.SeriesInstanceUID = uid()
    ds.StudyID = "RP000123"
    ds.SeriesNumber = 2
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = [-250.0, -250.0, 0.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.FrameOfReferenceUID = uid()
    ds.SliceLocation = "0.0"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = size
    ds.Columns = size
    ds.PixelSpacing = [500.0 / size, 500.0 / size]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OW"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def next_image(ds: Dataset, number: int) -> Dataset:
    """The same slice as a new instance (a new SOP Instance UID)."""
    ds.SOPInstanceUID = uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = number
    return ds


# ------------------------------------------------------------------- worklist

#: The worklist of the MWL benchmark: 5,000 items designed so that three queries
#: return exactly 1, 50 and 1000 matches.
MWL_ITEMS = 5000
ONE_PATIENT_ID = "BP001234"  # patient IDs are unique: exactly 1 match
FIFTY_DATE = "20261201"  # the only day with items of group B: exactly 50
THOUSAND_MODALITY = "MR"  # group A: 1000 MR items, all in November 2026
THOUSAND_RANGE = "20261101-20261130"
MWL_EXPECTED = {"1 match": 1, "50 matches": 50, "1000 matches": 1000}
_OTHER_MODALITIES = ("CT", "CR", "US", "DX")


def worklist_items() -> list[dict[str, Any]]:
    """The items as MPPS Console's import JSON (``mppsconsole worklist import``)."""
    items = []
    start = dt.datetime(2026, 11, 1, 8, 0)
    for i in range(MWL_ITEMS):
        if i < 1000:  # group A: MR, 50 a day over 20 days of November
            modality = THOUSAND_MODALITY
            moment = start + dt.timedelta(days=i // 50, minutes=10 * (i % 50))
        elif i < 1050:  # group B: CT, every one on 2026-12-01
            modality = "CT"
            moment = dt.datetime(2026, 12, 1, 8, 0) + dt.timedelta(minutes=10 * (i - 1000))
        else:  # group C: never MR, never on 2026-12-01
            modality = _OTHER_MODALITIES[i % len(_OTHER_MODALITIES)]
            day = (i - 1050) % 60
            moment = dt.datetime(2026, 10, 1, 8, 0) + dt.timedelta(days=day, minutes=7 * (i % 60))
            if moment.date() >= dt.date(2026, 11, 1):
                moment += dt.timedelta(days=40)  # October, or past 2026-12-01 (December 11+)
        items.append(
            {
                "patient_name": f"Bench^Patient{i:05d}",
                "patient_id": f"BP{i:06d}",
                "birth_date": f"{1940 + i % 60}0{1 + i % 9}1{i % 9}",
                "sex": "O",
                "accession_number": f"ACC{i:07d}",
                "modality": modality,
                "scheduled_station_ae": f"{modality}0{1 + i % 3}",
                "scheduled_start": moment.isoformat(),
                "study_instance_uid": f"{UID_ROOT}.1.{10000 + i}",
                "requested_procedure_id": f"RP{i:06d}",
                "scheduled_step_id": f"SPS{i:06d}",
                "description": f"{modality} examination {i % 17:02d}",
                "referring_physician": "Ref^Rita",
            }
        )
    return items


def write_worklist_json(path: Path) -> Path:
    path.write_text(json.dumps(worklist_items()), encoding="utf-8")
    return path


def worklist_dataset(item: dict[str, Any]) -> Dataset:
    """One item as a Modality Worklist dataset (what wlmscpfs and the naive SCP serve)."""
    moment = dt.datetime.fromisoformat(item["scheduled_start"])
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.AccessionNumber = item["accession_number"]
    ds.ReferringPhysicianName = item["referring_physician"]
    ds.PatientName = item["patient_name"]
    ds.PatientID = item["patient_id"]
    ds.PatientBirthDate = item["birth_date"]
    ds.PatientSex = item["sex"]
    ds.StudyInstanceUID = item["study_instance_uid"]
    ds.RequestedProcedureID = item["requested_procedure_id"]
    ds.RequestedProcedureDescription = item["description"]
    ds.RequestedProcedurePriority = "ROUTINE"
    ds.ReferencedStudySequence = Sequence()
    ds.ReferencedPatientSequence = Sequence()
    step = Dataset()
    step.Modality = item["modality"]
    step.ScheduledStationAETitle = item["scheduled_station_ae"]
    step.ScheduledProcedureStepStartDate = moment.strftime("%Y%m%d")
    step.ScheduledProcedureStepStartTime = moment.strftime("%H%M%S")
    step.ScheduledPerformingPhysicianName = "Tech^Tina"
    step.ScheduledProcedureStepDescription = item["description"]
    step.ScheduledProcedureStepID = item["scheduled_step_id"]
    step.ScheduledProcedureStepStatus = "SCHEDULED"
    step.ScheduledStationName = item["scheduled_station_ae"]
    step.ScheduledProcedureStepLocation = "Radiology 1"
    step.ScheduledProtocolCodeSequence = Sequence(
        [
            _code(
                f"{item['modality']}-{item['requested_procedure_id']}",
                "99BENCH",
                item["description"],
            )
        ]
    )
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def worklist_query(*, patient_id: str = "", modality: str = "", date: str = "") -> Dataset:
    """A Modality Worklist C-FIND identifier: the matching keys given, the usual return keys."""
    ds = Dataset()
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.PatientName = ""
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = ""
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.ReferencedStudySequence = Sequence()
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = date
    step.ScheduledProcedureStepStartTime = ""
    step.ScheduledPerformingPhysicianName = ""
    step.ScheduledProcedureStepDescription = ""
    step.ScheduledProcedureStepID = ""
    step.ScheduledProcedureStepStatus = ""
    step.ScheduledProcedureStepLocation = ""
    step.ScheduledProtocolCodeSequence = Sequence()
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def mwl_queries() -> dict[str, Dataset]:
    return {
        "1 match": worklist_query(patient_id=ONE_PATIENT_ID),
        "50 matches": worklist_query(date=FIFTY_DATE),
        "1000 matches": worklist_query(modality=THOUSAND_MODALITY, date=THOUSAND_RANGE),
    }
