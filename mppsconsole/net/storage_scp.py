"""Storage SCP: writes what the peer sent, byte for byte, without decoding pixels."""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import cast

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag, Tag
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event

from mppsconsole.core.errors import WriteFailed
from mppsconsole.core.events import InstanceStored, StepChanged, Subject
from mppsconsole.core.step import StepSummary
from mppsconsole.net import faults, step_findings, write_failures
from mppsconsole.net.scp_context import Peer, ScpContext, now
from mppsconsole.net.staged_files import StagedFiles
from mppsconsole.net.status import (
    STORE_CANNOT_UNDERSTAND,
    STORE_OUT_OF_RESOURCES,
    SUCCESS,
    status_dataset,
)
from mppsconsole.store import instances, steps
from mppsconsole.store.private import make_private_dirs

log = logging.getLogger(__name__)

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_SERIES_UID = Tag("SeriesInstanceUID")
#: The last attribute the validation findings compare (IHE RAD TF-2 Appendix A).
_REQUEST_ATTRIBUTES = Tag("RequestAttributesSequence")


#: How much of a dataset to scan for the study and series UIDs before parsing it all.
_ID_PREFIX = 64 * 1024


def _dataset_bytes(event: Event) -> memoryview:
    """The received dataset as pynetdicom holds it, without a copy."""
    return cast(io.BytesIO, cast(C_STORE, event.request).DataSet).getbuffer()


def _identifiers(event: Event, data: memoryview, last: BaseTag = _SERIES_UID) -> Dataset:
    """Study and Series Instance UIDs (or everything up to ``last``), read from the start
    of the dataset only.

    The UIDs (group 0020) come long before the pixel data; parsing stops after
    them, so a 512 KiB image costs the same as a 4 KiB one.
    """
    ts = event.context.transfer_syntax
    if ts.is_deflated:
        return event.dataset

    def read(view: memoryview) -> Dataset:
        return read_dataset(
            io.BytesIO(view),
            ts.is_implicit_VR,
            ts.is_little_endian,
            stop_when=lambda tag, vr, length: tag > last,
        )

    try:
        ids = read(data[:_ID_PREFIX])
        if last in ids or len(data) <= _ID_PREFIX:
            return ids
    except Exception:  # an element crossed the prefix: read the whole dataset
        pass
    return read(data)


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """The encoded File Meta Information pynetdicom's ``Event.file_meta`` describes.

    Written out here: building that dataset and encoding it with pydicom cost
    ~0.8 ms per received image. Explicit VR little endian, values padded to even
    length (UIDs with NUL, text with a space), group length first.
    """
    body = b"".join(
        (
            b"\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01",  # version 00 01
            _short_element(0x0002, "UI", sop_class),
            _short_element(0x0003, "UI", sop_instance),
            _short_element(0x0010, "UI", transfer_syntax),
            _short_element(0x0012, "UI", PYNETDICOM_IMPLEMENTATION_UID),
            _short_element(0x0013, "SH", PYNETDICOM_IMPLEMENTATION_VERSION),
        )
    )
    return b"\x02\x00\x00\x00UL\x04\x00" + struct.pack("<I", len(body)) + body


def _short_element(element: int, vr: str, value: str) -> bytes:
    data = value.encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return struct.pack("<HH2sH", 0x0002, element, vr.encode("ascii"), len(data)) + data


def _write_atomically(
    path: Path,
    parts: tuple[bytes | memoryview, ...],
    fsync: bool,
    known_dirs: set[Path],
    pool: StagedFiles | None = None,
) -> None:
    """Write to a temporary file, then rename: a crash never leaves half a file.

    The temporary file comes from ``pool`` (open, empty files made ahead of time
    in the same file system, see net/staged_files.py) or is made here beside the
    target. ``known_dirs`` holds the folders already made, sparing a mkdir per
    image; one removed behind our back is made again.
    """
    if path.parent not in known_dirs:
        _make_folder(path.parent, known_dirs)
    staged = pool.take() if pool is not None else None
    if staged is not None:
        try:
            _write_and_rename(*staged, path, parts, fsync, known_dirs)
            return
        except OSError as exc:
            # The staging folder was removed behind our back, or a series folder is on
            # another file system: write the image again, beside its target.
            if exc.errno not in (errno.ENOENT, errno.EXDEV):
                raise
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")  # 0600, kept by the rename
    except FileNotFoundError:
        _make_folder(path.parent, known_dirs)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    _write_and_rename(fd, Path(tmp), path, parts, fsync, known_dirs)


def _make_folder(folder: Path, known_dirs: set[Path]) -> None:
    """Make ``folder`` (private), also when it was known but removed behind our back."""
    make_private_dirs(folder)
    known_dirs.add(folder)


def _write_and_rename(
    fd: int,
    tmp: Path,
    path: Path,
    parts: tuple[bytes | memoryview, ...],
    fsync: bool,
    known_dirs: set[Path],
) -> None:
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except FileNotFoundError:  # the series folder was removed since it was made
            _make_folder(path.parent, known_dirs)
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class StorageScp:
    def __init__(self, context: ScpContext) -> None:
        self.ctx = context
        self._known_dirs: set[Path] = set()
        self.staged = StagedFiles(context.images_dir)

    def on_store(self, event: Event) -> Dataset:
        forced = faults.inject(self.ctx, "storage", event).status
        if forced is not None:
            return forced
        # The view must be released before pynetdicom reuses its buffer.
        with _dataset_bytes(event) as data:
            return self._store(event, data)

    def _store(self, event: Event, data: memoryview) -> Dataset:
        peer = Peer.of(event)
        request = cast(C_STORE, event.request)
        sop_uid = str(request.AffectedSOPInstanceUID)
        try:
            ids = _identifiers(event, data)
            study_uid = str(ids.get("StudyInstanceUID", "")).strip()
            series_uid = str(ids.get("SeriesInstanceUID", "")).strip()
        except Exception as exc:
            return self._not_understood(event, f"Cannot decode dataset: {exc}")
        for name, uid in (("SOP Instance", sop_uid), ("Study", study_uid), ("Series", series_uid)):
            if not _UID.match(uid) or len(uid) > 64:
                return self._not_understood(event, f"Invalid {name} UID {uid!r}")
        path = self.ctx.images_dir / study_uid / series_uid / f"{sop_uid}.dcm"
        meta = file_meta(
            str(request.AffectedSOPClassUID), sop_uid, str(event.context.transfer_syntax)
        )
        header = b"\x00" * 128 + b"DICM" + meta
        replacing = path.exists()  # a resent instance: its earlier file stays acknowledged
        try:
            _write_atomically(
                path, (header, data), self.ctx.fsync_files, self._known_dirs, self.staged
            )
        except OSError as exc:
            reason = f"cannot write {path}: {exc.strerror}"
            return write_failures.refused(self.ctx, peer, "C-STORE", STORE_OUT_OF_RESOURCES, reason)
        try:
            size = len(header) + len(data)
            step_uid, changed = self._record(
                event, peer, sop_uid, (study_uid, series_uid), path, size, data
            )
        except WriteFailed as exc:
            if not replacing:
                path.unlink(missing_ok=True)  # no file the store does not know of
            reason = str(exc.__cause__ or exc)
            return write_failures.refused(self.ctx, peer, "C-STORE", STORE_OUT_OF_RESOURCES, reason)
        log.debug("C-STORE %s from %s -> %s", sop_uid, peer, path)
        self.ctx.events.publish(InstanceStored(sop_uid, step_uid, "received"))
        if changed is not None:
            self.ctx.events.publish(StepChanged(changed))
        subject = Subject(
            str(request.AffectedSOPClassUID),
            sop_uid,
            str(ids.get("PatientID", "")),
            str(ids.get("PatientName", "")),
            str(ids.get("AccessionNumber", "")),
        )
        self.ctx.traffic(peer, "C-STORE", "0x0000", sop_uid, subject)
        return status_dataset(SUCCESS)

    def _not_understood(self, event: Event, comment: str) -> Dataset:
        """0xC000 for the peer, announced (traffic log, audit trail) with what was sent."""
        request = cast(C_STORE, event.request)
        subject = Subject(str(request.AffectedSOPClassUID), str(request.AffectedSOPInstanceUID))
        self.ctx.traffic(
            Peer.of(event), "C-STORE", f"0x{STORE_CANNOT_UNDERSTAND:04X}", comment, subject
        )
        return status_dataset(STORE_CANNOT_UNDERSTAND, comment)

    def _record(
        self,
        event: Event,
        peer: Peer,
        sop_uid: str,
        study_and_series: tuple[str, str],
        path: Path,
        size: int,
        data: memoryview,
    ) -> tuple[str | None, StepSummary | None]:
        """The instance in the store, linked to its step, with the step's findings.

        Returns the step's UID and its new summary when the instance changed its findings.
        """
        study_uid, series_uid = study_and_series
        request = cast(C_STORE, event.request)
        with self.ctx.db.transaction() as conn:
            step_uid = steps.latest_for_study(conn, study_uid)
            instances.save(
                conn,
                instances.Instance(
                    sop_instance_uid=sop_uid,
                    sop_class_uid=str(request.AffectedSOPClassUID),
                    study_instance_uid=study_uid,
                    series_instance_uid=series_uid,
                    transfer_syntax=str(event.context.transfer_syntax),
                    path=str(path),
                    size=size,
                    calling_ae=peer.ae_title,
                    received_at=now(),
                    step_uid=step_uid,
                ),
            )
            changed = step_findings.record_instance(
                conn, step_uid, sop_uid, lambda: _identifiers(event, data, _REQUEST_ATTRIBUTES)
            )
        return step_uid, changed
