"""The rotating log file: rotates on size, loses no record while within its backups."""

from __future__ import annotations

import logging
from pathlib import Path

from mppsconsole.log_files import BACKUPS, RotatingLog


def test_rotates_once_the_file_reaches_its_size_and_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "mppsconsole.log"
    handler = RotatingLog(path)
    handler.maxBytes = 100  # a few records a file
    logger = logging.Logger("rotation-test")
    logger.addHandler(handler)
    records = [f"record {n:03d} of the rotation test" for n in range(12)]
    try:
        for line in records:
            logger.warning(line)
    finally:
        handler.close()
    files = [path.with_name(f"{path.name}.{n}") for n in range(BACKUPS, 0, -1)] + [path]
    kept = [line for f in files if f.exists() for line in f.read_text("utf-8").splitlines()]
    assert kept == records
    assert path.with_name(f"{path.name}.1").exists()
    line_size = len(records[0]) + 1
    assert all(f.stat().st_size < handler.maxBytes + line_size for f in files if f.exists())
