"""Files staged ahead for the storage SCP (net/staged_files.py), alone and behind C-STORE."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pydicom
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

from mppsconsole.net.staged_files import DEPTH, STAGING_DIR, StagedFiles
from tests.conftest import RunningServer
from tests.network.conftest import associate, ct_image
from tests.network.peers import wait_until


def _staged(images: Path) -> list[Path]:
    return sorted((images / STAGING_DIR).glob("*"))


def test_the_pool_fills_hands_out_private_empty_files_and_cleans_up(tmp_path: Path) -> None:
    images = tmp_path / "images"
    (images / STAGING_DIR).mkdir(parents=True)
    leftover = images / STAGING_DIR / "crashed.part"
    leftover.write_bytes(b"half an image")  # a previous run's, killed mid-write
    pool = StagedFiles(images, depth=3)
    pool.start()
    try:
        assert not leftover.exists()
        assert wait_until(lambda: len(_staged(images)) == 3, 5)
        taken = pool.take()
        assert taken is not None
        fd, path = taken
        assert path.parent == images / STAGING_DIR and path.stat().st_size == 0
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        os.write(fd, b"data")
        os.close(fd)
        assert wait_until(lambda: len(_staged(images)) == 4, 5)  # refilled beside the taken one
        path.unlink()
    finally:
        pool.stop()
    assert _staged(images) == []
    assert pool.take() is None  # stopped: the handler makes its own file


def test_stored_images_come_through_staged_files_and_none_is_left_at_stop(
    scp: RunningServer,
) -> None:
    staging = scp.images_dir / STAGING_DIR
    assert wait_until(lambda: len(list(staging.glob("*.part"))) > 0, 5)
    first = {p.name for p in staging.glob("*.part")}
    images = [ct_image() for _ in range(12)]
    with associate(scp, CTImageStorage) as assoc:
        for ds in images:
            assert assoc.send_c_store(ds).Status == 0x0000
    for ds in images:
        stored = scp.images_dir / ds.StudyInstanceUID / ds.SeriesInstanceUID
        read = pydicom.dcmread(stored / f"{ds.SOPInstanceUID}.dcm")
        assert read.SOPInstanceUID == ds.SOPInstanceUID
    # The files made ahead were used (renamed into place), not just left there.
    assert not first & {p.name for p in staging.glob("*.part")}
    assert all(p.stat().st_size == 0 for p in staging.glob("*.part"))
    scp.stop()
    assert list(staging.glob("*")) == []


def test_images_are_stored_after_the_whole_images_folder_was_removed(
    scp: RunningServer,
) -> None:
    staging = scp.images_dir / STAGING_DIR
    assert wait_until(lambda: len(list(staging.glob("*.part"))) == DEPTH, 5)  # pool full
    shutil.rmtree(scp.images_dir)  # staged files and folders gone behind the SCP's back
    images = [ct_image() for _ in range(12)]  # more than the pool held
    with associate(scp, CTImageStorage) as assoc:
        for ds in images:
            assert assoc.send_c_store(ds).Status == 0x0000
    for ds in images:
        stored = scp.images_dir / ds.StudyInstanceUID / ds.SeriesInstanceUID
        assert (
            pydicom.dcmread(stored / f"{ds.SOPInstanceUID}.dcm").SOPInstanceUID == ds.SOPInstanceUID
        )
    assert wait_until(lambda: len(list(staging.glob("*.part"))) > 0, 5)  # the pool is back
