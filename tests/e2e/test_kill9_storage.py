"""``kill -9`` of ``serve`` while modalities store images: every acknowledged image survives.

Acknowledged means a C-STORE answered Success. After the kill and a restart,
each such image must be in the store, linked to its step, and its file whole
(the bytes the modality sent, byte for byte in the data set).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

from mppsconsole.store import instances
from mppsconsole.store.db import Database
from tests.e2e import peer
from tests.e2e.conftest import DrainedServe
from tests.network.conftest import ct_image

SENDERS = 3
KILL_AFTER = 60  # acknowledged images


def test_kill9_during_c_store_load_keeps_every_acknowledged_image(serve: DrainedServe) -> None:
    step = peer.create_dataset()
    study_uid = str(step.ScheduledStepAttributesSequence[0].StudyInstanceUID)
    step_uid = peer.new_uid()
    assoc = peer.associate(serve.port)
    try:
        assert assoc.send_n_create(step, peer.MPPS_CLASS, step_uid)[0].Status == peer.SUCCESS
    finally:
        assoc.release()

    acknowledged: dict[str, Dataset] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def modality() -> None:
        ae = AE(ae_title=peer.CALLING_AE)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.TIMEOUT
        ae.add_requested_context(CTImageStorage)
        try:
            sending = ae.associate(peer.LOOPBACK, serve.port, ae_title=peer.SERVER_AE)
            while sending.is_established and not stop.is_set():
                image = ct_image(study_uid, size=128)
                status = sending.send_c_store(image)
                if not status or status.Status != peer.SUCCESS:
                    return
                with lock:
                    acknowledged[str(image.SOPInstanceUID)] = image
        except Exception:
            return  # the server died under this association
        finally:
            ae.shutdown()

    threads = [threading.Thread(target=modality, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if len(acknowledged) >= KILL_AFTER:
                break
        time.sleep(0.01)
    sending_when_killed = sum(thread.is_alive() for thread in threads)
    serve.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a modality thread hung"
    assert sending_when_killed == SENDERS, "the load had stopped before the kill"
    assert len(acknowledged) >= KILL_AFTER

    again = DrainedServe(serve.data_dir)  # the store opens after the crash
    try:
        db = Database(serve.data_dir / "mppsconsole.sqlite3")
        try:
            with db.reading() as conn:
                held = instances.held(conn, list(acknowledged))
        finally:
            db.close()
    finally:
        code, err = again.stop()
    assert code == 0, err
    lost = set(acknowledged) - set(held)
    assert not lost, f"{len(lost)} acknowledged image(s) lost"
    for uid, instance in held.items():
        assert instance.step_uid == step_uid, "an image not linked to its step"
        path = Path(instance.path)
        assert path.stat().st_size == instance.size
        written = dcmread(path)
        assert written.PixelData == acknowledged[uid].PixelData
        assert written.SOPInstanceUID == uid
