"""The rotating log file of the main log and of the traffic log.

Python's RotatingFileHandler decides on rotation before every record by
formatting the record a second time, seeking to the end and calling stat()
twice: on a busy SCP that was more than the write itself. This one rotates on
the size the file has reached, read from the open stream.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

MAX_BYTES = 5_000_000
BACKUPS = 5


class RotatingLog(logging.handlers.RotatingFileHandler):
    """UTF-8, rotated once the file reaches :data:`MAX_BYTES` (it may pass it by one record)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        return self.stream is not None and self.stream.tell() >= self.maxBytes
