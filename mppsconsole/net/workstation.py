"""Who this console is when it acts as a modality, and the unscheduled patient."""

from __future__ import annotations

import dataclasses

from mppsconsole.core.settings import Settings
from mppsconsole.net.mpps_datasets import Performer


@dataclasses.dataclass(frozen=True)
class Workstation:
    """Who we are as a modality: from the settings, used by every operation."""

    ae_title: str
    station_name: str
    location: str
    operator: str
    uid_root: str | None

    @classmethod
    def from_settings(cls, settings: Settings, ae_title: str | None = None) -> Workstation:
        return cls(
            ae_title=ae_title or settings.ae_title,
            station_name=settings.station_name,
            location=settings.location,
            operator=settings.operator,
            uid_root=settings.uid_root or None,
        )

    @property
    def performer(self) -> Performer:
        return Performer(self.ae_title, self.station_name, self.location, self.operator)


@dataclasses.dataclass(frozen=True)
class Patient:
    """An unscheduled patient (no worklist item)."""

    name: str
    id: str
    birth_date: str = ""
    sex: str = ""
