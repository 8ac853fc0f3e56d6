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
from pynetdicom.events import Event

from mppsconsole.core.events import InstanceStored
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


def _identifiers(event: Event) -> Dataset:
    """Study and Series Instance UIDs, read without touching the rest of the dataset."""
    ts = event.context.transfer_syntax
    if ts.is_deflated:
        return event.dataset
    return read_dataset(
        io.BytesIO(event.encoded_dataset(include_meta=False)),
        ts.is_implicit_VR,
        ts.is_little_endian,
        stop_when=lambda tag, vr, length: tag > _SERIES_UID,
    )


def _write_atomically(path: Path, data: bytes, fsync: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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
        peer = Peer.of(event)
        request = cast(C_STORE, event.request)
        sop_uid = str(request.AffectedSOPInstanceUID)
        try:
            ids = _identifiers(event)
            study_uid = str(ids.get("StudyInstanceUID", "")).strip()
            series_uid = str(ids.get("SeriesInstanceUID", "")).strip()
        except Exception as exc:
            return status_dataset(STORE_CANNOT_UNDERSTAND, f"Cannot decode dataset: {exc}")
        for name, uid in (("SOP Instance", sop_uid), ("Study", study_uid), ("Series", series_uid)):
            if not _UID.match(uid) or len(uid) > 64:
                return status_dataset(STORE_CANNOT_UNDERSTAND, f"Invalid {name} UID {uid!r}")
        path = self.ctx.images_dir / study_uid / series_uid / f"{sop_uid}.dcm"
        data = event.encoded_dataset()
        try:
            _write_atomically(path, data, self.ctx.fsync_files)
        except OSError as exc:
            log.error("C-STORE %s from %s: cannot write %s: %s", sop_uid, peer, path, exc)
            return status_dataset(STORE_OUT_OF_RESOURCES, f"Cannot write file: {exc.strerror}")
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
                    size=len(data),
                    calling_ae=peer.ae_title,
                    received_at=now(),
                    step_uid=step_uid,
                ),
            )
        log.debug("C-STORE %s from %s -> %s", sop_uid, peer, path)
        self.ctx.events.publish(InstanceStored(sop_uid, step_uid, "received"))
        self.ctx.traffic(peer, "C-STORE", "0x0000", sop_uid)
        return status_dataset(SUCCESS)
