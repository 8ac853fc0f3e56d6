"""Composition root: locations, logging, settings, store, and the shutdown order."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from mppsconsole.core.settings import Settings, load_settings
from mppsconsole.log_files import RotatingLog
from mppsconsole.paths import Locations
from mppsconsole.store.db import Database

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(locations: Locations, console_level: int) -> None:
    """INFO and up to a rotating file under the data dir; ``console_level`` to stderr."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if console_level <= logging.DEBUG else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter(LOG_FORMAT))
    if console_level > logging.DEBUG:
        # The CLI reports a failed association in one line of its own; pynetdicom's
        # narration of the same failure stays in the log file.
        console.addFilter(lambda record: not record.name.startswith("pynetdicom"))
    root.addHandler(console)
    try:
        locations.log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingLog(locations.log_dir / "mppsconsole.log")
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file: %s", exc)
    else:
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(file_handler)
    # pynetdicom narrates every PDU at INFO; keep its warnings only.
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)


def load(locations: Locations) -> Settings:
    return load_settings(locations.config_file, must_exist=locations.config_explicit)


@contextlib.contextmanager
def open_store(locations: Locations, settings: Settings) -> Iterator[Database]:
    db = Database(locations.database, durability=settings.durability)
    try:
        yield db
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    from mppsconsole import cli

    restrict_file_modes()  # the process entry point (console script, python -m, bundles)
    return cli.main(argv)


def restrict_file_modes() -> None:
    """New files and folders readable by this user only (POSIX): logs, exports, anything
    created without an explicit mode. See store/private.py for the files we create."""
    if os.name == "posix":
        os.umask(0o077)
