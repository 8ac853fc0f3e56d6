"""``serve`` on a disk that fills up: failure statuses, a visible error, nothing half-stored.

The data directory lives on a real 1 MiB tmpfs when this process may mount
one (root outside a locked-down container); otherwise ``serve`` runs with
RLIMIT_FSIZE, where a write past the limit fails with EFBIG just as a full
disk fails with ENOSPC (SQLite reports the one as SQLITE_IOERR, the other as
SQLITE_FULL; both must be answered the same way). Never skipped.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, steps_json
from tests.network.conftest import ct_image

SIZE_LIMIT = 512 * 1024  # a 512² CT file is just over
TMPFS_SIZE = "1m"
OUT_OF_RESOURCES = 0xA700
PROCESSING_FAILURE = 0x0110


def _limit_file_size() -> None:
    """In the child: writes past SIZE_LIMIT fail with EFBIG instead of killing it."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (SIZE_LIMIT, SIZE_LIMIT))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """(data directory, preexec_fn for serve): a tiny tmpfs, or a file size limit."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)],
                capture_output=True,
                check=False,
                timeout=30,
            ).returncode
            == 0
        )
    try:
        yield mount_point / "data", None if mounted else _limit_file_size
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], check=False, timeout=30)


def store(port: int, images: list[Dataset]) -> list[Dataset]:
    """C-STORE each image on one association; the status datasets."""
    ae = AE(ae_title=peer.CALLING_AE)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.TIMEOUT
    ae.add_requested_context(CTImageStorage, [images[0].file_meta.TransferSyntaxUID])
    assoc = ae.associate(peer.LOOPBACK, port, ae_title=peer.SERVER_AE)
    assert assoc.is_established
    try:
        return [assoc.send_c_store(image) for image in images]
    finally:
        assoc.release()
        ae.shutdown()


def test_a_full_disk_fails_requests_cleanly_and_loses_nothing_acknowledged(
    small_disk: tuple[Path, Callable[[], None] | None],
) -> None:
    data_dir, preexec = small_disk
    serve = DrainedServe(data_dir, preexec_fn=preexec)
    try:
        # images: 512 KiB each, until the disk refuses one
        big = [ct_image(size=512) for _ in range(3)]
        statuses = store(serve.port, big)
        codes = [int(s.Status) for s in statuses]
        assert OUT_OF_RESOURCES in codes, codes
        stored_images = [i for i, c in zip(big, codes, strict=True) if c == 0]
        failed = statuses[codes.index(OUT_OF_RESOURCES)]
        assert str(failed.ErrorComment).startswith("Out of resources:"), failed
        small = ct_image(size=16)
        assert [int(s.Status) for s in store(serve.port, [small])] == [0]  # still serving
        stored_images.append(small)

        # MPPS steps until the database cannot grow
        acknowledged: list[str] = []
        refused: int | None = None
        comment = ""
        assoc = peer.associate(serve.port)
        try:
            for _ in range(400):
                uid = peer.new_uid()
                status, _ = assoc.send_n_create(peer.create_dataset(), peer.MPPS_CLASS, uid)
                if int(status.Status) != 0:
                    refused, comment = int(status.Status), str(status.get("ErrorComment", ""))
                    break
                acknowledged.append(uid)
        finally:
            peer.drop(assoc)
        assert refused == PROCESSING_FAILURE, (refused, len(acknowledged))
        assert comment.startswith("Out of resources:"), comment
        assert acknowledged, "the disk was full before the first step"
        assert peer.echoscu(serve.port).returncode == 0
        assert serve.proc.poll() is None
        log = serve.stderr_so_far
        assert "C-STORE from" in log and "N-CREATE from" in log and "not stored" in log
        assert "Traceback" not in log
    finally:
        code, err = serve.stop()
    assert code == 0, err

    # nothing half-written: no temporary files, an intact database, every Success kept
    assert not list(data_dir.rglob("*.part"))
    db = data_dir / "mppsconsole.sqlite3"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = dict(conn.execute("SELECT sop_instance_uid, path FROM instances").fetchall())
    assert set(rows) == {str(i.SOPInstanceUID) for i in stored_images}
    files = {p.stem for p in data_dir.rglob("*.dcm")}
    assert files == set(rows), "a file the store does not know of, or the reverse"
    stored = {s["sop_instance_uid"] for s in steps_json(data_dir)}
    assert set(acknowledged) <= stored
