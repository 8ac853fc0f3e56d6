"""Helpers for tests that talk to the in-process SCP over real loopback associations.

The peers here are independent of the code under test: pynetdicom SCUs built
from scratch in each test, or DCMTK tools called by full path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
)

from mppsconsole.core.settings import Node, Settings
from mppsconsole.core.worklist import WorklistItem, build_item
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.store import steps, worklist
from tests.conftest import LOOPBACK, RunningServer

#: The calling AE title of the test SCUs.
MODALITY_AE = "MODALITY1"
#: Bounds every network wait of a test SCU, so a broken SCP fails the test, never hangs it.
TIMEOUT = 10


def settings(**changes: Any) -> Settings:
    """The ``scp_settings`` of tests/conftest.py with some fields changed."""
    base: dict[str, Any] = {
        "bind_address": LOOPBACK,
        "nodes": (Node("self", "MPPSCONSOLE", LOOPBACK, 0),),
    }
    return Settings(**{**base, **changes})


@contextlib.contextmanager
def associate(
    scp: RunningServer,
    *contexts: str | tuple[str, Sequence[str]],
    ae_title: str = MODALITY_AE,
    called_ae: str | None = None,
    evt_handlers: Iterable[tuple[Any, Any]] = (),
    ext_neg: list[Any] | None = None,
) -> Iterator[Association]:
    """An established association with ``scp``, released (or aborted) on exit.

    A context is an abstract syntax, or (abstract syntax, transfer syntaxes).
    """
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    for cx in contexts:
        if isinstance(cx, tuple):
            ae.add_requested_context(cx[0], list(cx[1]))
        else:
            ae.add_requested_context(cx)
    assoc = ae.associate(
        scp.host,
        scp.port,
        ae_title=called_ae or scp.ae_title,
        evt_handlers=[NODELAY_HANDLER, *evt_handlers],
        ext_neg=ext_neg,
    )
    assert assoc.is_established, f"association with {scp.host}:{scp.port} not established"
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()
        if assoc.is_established:
            assoc.abort()
        ae.shutdown()


@contextlib.contextmanager
def mpps_association(scp: RunningServer, **kwargs: Any) -> Iterator[Association]:
    with associate(scp, ModalityPerformedProcedureStep, **kwargs) as assoc:
        yield assoc


class CommandSets:
    """Records the command set of every DIMSE message the requestor receives, by type."""

    def __init__(self) -> None:
        self.received: list[tuple[type, Dataset]] = []

    def _on_recv(self, event: Event) -> None:
        self.received.append((type(event.message), event.message.command_set))

    def of(self, message_type: type) -> list[Dataset]:
        """Command sets of the received messages of ``message_type`` (a dimse_messages class)."""
        return [cs for kind, cs in self.received if kind is message_type]

    @property
    def handler(self) -> tuple[Any, Any]:
        return (evt.EVT_DIMSE_RECV, self._on_recv)


def scheduled_item(
    study_uid: str, sps_id: str = "", accession: str = "", rp_id: str = ""
) -> Dataset:
    """One item of Scheduled Step Attributes Sequence (Table F.7.2-1)."""
    item = Dataset()
    item.StudyInstanceUID = study_uid
    item.ReferencedStudySequence = DicomSequence()
    item.AccessionNumber = accession
    item.RequestedProcedureID = rp_id
    item.RequestedProcedureDescription = ""
    item.ScheduledProcedureStepID = sps_id
    item.ScheduledProcedureStepDescription = ""
    item.ScheduledProtocolCodeSequence = DicomSequence()
    return item


def create_dataset(
    *,
    scheduled: Sequence[Dataset] | None = None,
    patient_name: str = "Doe^Jane",
    patient_id: str = "PID001",
    modality: str = "CT",
    station_ae: str = MODALITY_AE,
    status: str = "IN PROGRESS",
) -> Dataset:
    """A valid MPPS N-CREATE attribute list: every Type 1 filled, Type 2 present."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ScheduledStepAttributesSequence = DicomSequence(
        list(scheduled)
        if scheduled is not None
        else [scheduled_item(generate_uid(), "SPS1", "ACC1", "RP1")]
    )
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.ReferencedPatientSequence = DicomSequence()
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = station_ae
    ds.PerformedStationName = "CT ROOM 1"
    ds.PerformedLocation = "RADIOLOGY"
    ds.PerformedProcedureStepStartDate = "20261121"
    ds.PerformedProcedureStepStartTime = "093000"
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepDescription = "CT HEAD"
    ds.PerformedProcedureTypeDescription = ""
    ds.ProcedureCodeSequence = DicomSequence()
    ds.PerformedProcedureStepEndDate = ""
    ds.PerformedProcedureStepEndTime = ""
    ds.Modality = modality
    ds.StudyID = "1"
    ds.PerformedProtocolCodeSequence = DicomSequence()
    ds.PerformedSeriesSequence = DicomSequence()
    return ds


def performed_series(
    series_uid: str | None = None,
    image_uids: Sequence[str] = (),
    sop_class_uid: str = CTImageStorage,
) -> Dataset:
    """One Performed Series Sequence item with its Type 1 and Type 2 attributes."""
    series = Dataset()
    series.SeriesInstanceUID = series_uid or generate_uid()
    series.ProtocolName = "HEAD ROUTINE"
    series.PerformingPhysicianName = ""
    series.OperatorsName = "Tech^One"
    series.SeriesDescription = "AXIAL"
    series.RetrieveAETitle = ""
    refs = []
    for uid in image_uids:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class_uid
        ref.ReferencedSOPInstanceUID = uid
        refs.append(ref)
    series.ReferencedImageSequence = DicomSequence(refs)
    series.ReferencedNonImageCompositeSOPInstanceSequence = DicomSequence()
    return series


def completed_dataset(series: Sequence[Dataset] | None = None) -> Dataset:
    """The N-SET that completes a step (status, end date/time, performed series)."""
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "COMPLETED"
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "094500"
    ds.PerformedSeriesSequence = DicomSequence(
        list(series) if series is not None else [performed_series(image_uids=[generate_uid()])]
    )
    return ds


def discontinued_dataset(
    reason: str = "110514", meaning: str = "Incorrect worklist entry"
) -> Dataset:
    """The N-SET that discontinues a step, with a CID 9300 reason code."""
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "DISCONTINUED"
    ds.PerformedProcedureStepEndDate = "20261121"
    ds.PerformedProcedureStepEndTime = "094000"
    code = Dataset()
    code.CodeValue = reason
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = meaning
    ds.PerformedProcedureStepDiscontinuationReasonCodeSequence = DicomSequence([code])
    return ds


def create_step(assoc: Association, ds: Dataset | None = None, uid: str | None = None) -> str:
    """N-CREATE a step that must succeed; its SOP Instance UID."""
    uid = uid or generate_uid()
    status, _ = assoc.send_n_create(
        ds if ds is not None else create_dataset(), ModalityPerformedProcedureStep, uid
    )
    assert status.Status == 0x0000, status
    return uid


def stored_step(scp: RunningServer, uid: str) -> steps.StoredStep | None:
    with scp.db.reading() as conn:
        return steps.get(conn, uid)


def step_messages(scp: RunningServer, uid: str) -> list[steps.Message]:
    with scp.db.reading() as conn:
        return steps.messages(conn, uid)


def add_worklist(scp: RunningServer, *fields: dict[str, Any]) -> list[WorklistItem]:
    """Store local worklist items built from user-style fields; the items as stored."""
    items = [build_item(f) for f in fields]
    with scp.db.transaction() as conn:
        worklist.add_many(conn, items)
    return items


def worklist_statuses(scp: RunningServer) -> dict[str, str]:
    """Scheduled Procedure Step ID -> status of every local item (finished ones too)."""
    with scp.db.reading() as conn:
        return {i.scheduled_step_id: i.status for i in worklist.list_items(conn)}


def mwl_query(**top: Any) -> Dataset:
    """A worklist C-FIND identifier: the given top-level keys plus an SPS item.

    Keys starting with ``sps_`` go into the Scheduled Procedure Step Sequence item.
    """
    ds = Dataset()
    sps = Dataset()
    for key, value in top.items():
        if key.startswith("sps_"):
            setattr(sps, key[4:], value)
        else:
            setattr(ds, key, value)
    for key in (
        "PatientName",
        "PatientID",
        "AccessionNumber",
        "StudyInstanceUID",
        "RequestedProcedureID",
    ):
        if key not in ds:
            setattr(ds, key, "")
    for key in (
        "Modality",
        "ScheduledStationAETitle",
        "ScheduledProcedureStepStartDate",
        "ScheduledProcedureStepStartTime",
        "ScheduledProcedureStepID",
        "ScheduledProcedureStepStatus",
    ):
        if key not in sps:
            setattr(sps, key, "")
    ds.ScheduledProcedureStepSequence = DicomSequence([sps])
    return ds


def find_worklist(scp: RunningServer, query: Dataset) -> tuple[list[Dataset], int]:
    """(pending identifiers, final status) of a worklist C-FIND from a pynetdicom SCU."""
    found: list[Dataset] = []
    final = -1
    with associate(scp, ModalityWorklistInformationFind) as assoc:
        for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
            assert status, "no C-FIND response (timeout or abort)"
            if status.Status in (0xFF00, 0xFF01):
                found.append(identifier)
            else:
                final = int(status.Status)
    return found, final


def ct_image(study_uid: str | None = None, size: int = 64) -> Dataset:
    """A CT Image IOD, ``size``² 16-bit signed, explicit VR little endian."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.ContentDate = "20261121"
    ds.StudyTime = ds.ContentTime = "093000"
    ds.AccessionNumber = "ACC-ST"
    ds.Modality = "CT"
    ds.Manufacturer = "MPPS Console tests"
    ds.ReferringPhysicianName = ""
    ds.PatientName = "Store^Test"
    ds.PatientID = "PST"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.KVP = "120"
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.SliceThickness = 1
    ds.PixelSpacing = [0.5, 0.5]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    y, x = np.mgrid[0:size, 0:size]
    pixels = ((x * 37 + y * 11) % 2048 - 1024).astype("<i2")  # not trivially compressible
    ds.PixelData = pixels.tobytes()
    return ds


@pytest.fixture
def command_sets() -> CommandSets:
    return CommandSets()
