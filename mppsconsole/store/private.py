"""Files and folders holding patient data, readable by their owner only (POSIX).

Modes are set where the files are created rather than trusted to the process
umask: the database and the image folders are also created by tests, by an
embedding program and by the GUI, none of which promise a umask; an explicit
``0600`` / ``0700`` holds whoever starts us. (The entry points also set a
``077`` umask, for the files we do not create ourselves: logs, exports.) On
Windows the modes mean nothing; the per-user profile folders protect the data.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: Path) -> None:
    """``mkdir -p`` whose new folders are ``0700`` (existing folders are left alone)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another thread made it meanwhile
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask


def make_private_file(path: Path) -> None:
    """Create ``path`` empty as ``0600`` if missing; make an existing one of ours ``0600``."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    if os.name == "posix":
        with contextlib.suppress(PermissionError):  # someone else's file: leave it be
            os.chmod(path, FILE_MODE)
