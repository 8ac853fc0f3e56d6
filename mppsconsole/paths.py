"""Where configuration and data live (platformdirs), with the overrides users and tests need.

Precedence: ``--data-dir`` / ``--config`` on the command line, then the
``MPPSCONSOLE_DATA_DIR`` / ``MPPSCONSOLE_CONFIG`` environment variables, then
the platform's user directories.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "mppsconsole"


@dataclasses.dataclass(frozen=True)
class Locations:
    config_file: Path
    config_explicit: bool
    data_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "mppsconsole.sqlite3"

    @property
    def images_dir(self) -> Path:
        """Default folder of received images (``storage_dir`` in the settings overrides it)."""
        return self.data_dir / "images"

    def storage_dir(self, configured: str) -> Path:
        return Path(configured).expanduser() if configured else self.images_dir

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def resolve(
    data_dir: str | None = None,
    config: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Locations:
    config = config or environ.get("MPPSCONSOLE_CONFIG")
    data_dir = data_dir or environ.get("MPPSCONSOLE_DATA_DIR")
    return Locations(
        config_file=Path(config)
        if config
        else Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml",
        config_explicit=bool(config),
        data_dir=Path(data_dir) if data_dir else Path(platformdirs.user_data_dir(APP_NAME)),
    )
