"""Storage SCP: writes what the peer sent, byte for byte, without decoding pixels."""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import cast

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.tag import Tag
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode_file_meta
from pynetdicom.events import Event

from mppsconsole.core.errors import WriteFailed
from mppsconsole.core.events import InstanceStored
from mppsconsole.net import write_failures
from mppsconsole.net.scp_context import Peer, ScpContext, now
from mppsconsole.net.status import (
    STORE_CANNOT_UNDERSTAND,
    STORE_OUT_OF_RESOURCES,
    SUCCESS,
    status_dataset,
)
from mppsconsole.store import instances, steps

log = logging.getLogger(__name__)

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_SERIES_UID = Tag("SeriesInstanceUID")


#: How much of a dataset to scan for the study and series UIDs before parsing it all.
_ID_PREFIX = 64 * 1024


def _dataset_bytes(event: Event) -> memoryview:
    """The received dataset as pynetdicom holds it, without a copy."""
    return cast(io.BytesIO, cast(C_STORE, event.request).DataSet).getbuffer()


def _identifiers(event: Event, data: memoryview) -> Dataset:
    """Study and Series Instance UIDs, read from the start of the dataset only.

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
            stop_when=lambda tag, vr, length: tag > _SERIES_UID,
        )

    try:
        ids = read(data[:_ID_PREFIX])
        if "SeriesInstanceUID" in ids or len(data) <= _ID_PREFIX:
            return ids
    except Exception:  # an element crossed the prefix: read the whole dataset
        pass
    return read(data)


def _write_atomically(path: Path, parts: tuple[bytes | memoryview, ...], fsync: bool) -> None:
    """Write to a temporary name, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StorageScp:
    def __init__(self, context: ScpContext) -> None:
        self.ctx = context

    def on_store(self, event: Event) -> Dataset:
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
            return status_dataset(STORE_CANNOT_UNDERSTAND, f"Cannot decode dataset: {exc}")
        for name, uid in (("SOP Instance", sop_uid), ("Study", study_uid), ("Series", series_uid)):
            if not _UID.match(uid) or len(uid) > 64:
                return status_dataset(STORE_CANNOT_UNDERSTAND, f"Invalid {name} UID {uid!r}")
        path = self.ctx.images_dir / study_uid / series_uid / f"{sop_uid}.dcm"
        header = b"\x00" * 128 + b"DICM" + encode_file_meta(event.file_meta)
        replacing = path.exists()  # a resent instance: its earlier file stays acknowledged
        try:
            _write_atomically(path, (header, data), self.ctx.fsync_files)
        except OSError as exc:
            reason = f"cannot write {path}: {exc.strerror}"
            return write_failures.refused(self.ctx, peer, "C-STORE", STORE_OUT_OF_RESOURCES, reason)
        try:
            size = len(header) + len(data)
            step_uid = self._record(event, peer, sop_uid, (study_uid, series_uid), path, size)
        except WriteFailed as exc:
            if not replacing:
                path.unlink(missing_ok=True)  # no file the store does not know of
            reason = str(exc.__cause__ or exc)
            return write_failures.refused(self.ctx, peer, "C-STORE", STORE_OUT_OF_RESOURCES, reason)
        log.debug("C-STORE %s from %s -> %s", sop_uid, peer, path)
        self.ctx.events.publish(InstanceStored(sop_uid, step_uid, "received"))
        self.ctx.traffic(peer, "C-STORE", "0x0000", sop_uid)
        return status_dataset(SUCCESS)

    def _record(
        self,
        event: Event,
        peer: Peer,
        sop_uid: str,
        study_and_series: tuple[str, str],
        path: Path,
        size: int,
    ) -> str | None:
        """The instance in the store, linked to its step (whose UID is returned)."""
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
        return step_uid
