"""Empty files made ahead of time for the storage SCP, off its handler thread.

Each received image is written to a temporary file that is then renamed into
place (a crash never leaves half a file). Creating that file is the single
most expensive step of storing a small image: measured on this kind of
machine, 0.9 ms per ``open(O_CREAT | O_EXCL)`` (ext4 metadata), where writing
512 KiB takes 1.4 ms and the rename 0.02 ms. A pool thread creates the files
while the handler waits on the network, in a staging folder inside the images
folder (same file system, so the rename into ``<Study>/<Series>/`` stays
atomic). The pool keeps a few open descriptors; the handler takes one, writes,
renames. When the pool is empty or stopped, the handler makes its own file, as
it did before.

Staged files are empty and private (0600). The folder is emptied at start
(leftovers of a crash) and at stop.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import secrets
import threading
from pathlib import Path

from mppsconsole.store.private import make_private_dirs

log = logging.getLogger(__name__)

#: The staging folder, inside the images folder; never holds received data for long.
STAGING_DIR = ".incoming"
#: Files kept ready: a burst of small images drains a few before the thread refills.
DEPTH = 8
_SUFFIX = ".part"


class StagedFiles:
    """A pool of empty, open, private files in ``images_dir/.incoming``."""

    def __init__(self, images_dir: Path, depth: int = DEPTH) -> None:
        self.folder = images_dir / STAGING_DIR
        self._depth = depth
        self._ready: collections.deque[tuple[int, Path]] = collections.deque()
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Empty the staging folder and start filling the pool (no-op if the folder fails)."""
        try:
            make_private_dirs(self.folder)
            for leftover in self.folder.glob(f"*{_SUFFIX}"):
                leftover.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("No staged files for received images (%s): %s", self.folder, exc)
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._fill, name="staged-files", daemon=True)
        self._thread.start()
        self._wanted.set()

    def take(self) -> tuple[int, Path] | None:
        """An open, empty file (descriptor, path) to write and rename, or None if none is ready."""
        try:
            staged = self._ready.popleft()
        except IndexError:
            staged = None
        self._wanted.set()
        return staged

    def stop(self) -> None:
        """Stop the pool thread, close and remove the files not taken."""
        self._stopping = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        while self._ready:
            fd, path = self._ready.popleft()
            with contextlib.suppress(OSError):
                os.close(fd)
                path.unlink()

    def _fill(self) -> None:
        while not self._stopping:
            self._wanted.wait()
            self._wanted.clear()
            while not self._stopping and len(self._ready) < self._depth:
                path = self.folder / f"{secrets.token_hex(8)}{_SUFFIX}"
                try:
                    fd = _create(path)
                except OSError as exc:  # full disk, say: handlers make their own meanwhile
                    log.debug("staged file not made: %s", exc)
                    break
                self._ready.append((fd, path))


def _create(path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:  # the staging folder was removed behind our back
        make_private_dirs(path.parent)
        return os.open(path, flags, 0o600)
