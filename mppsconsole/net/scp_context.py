"""What every SCP handler needs, injected once when the server starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from pynetdicom.events import Event

from mppsconsole.core.events import EventHub, Subject, Traffic
from mppsconsole.core.profile import ProfileHolder
from mppsconsole.core.settings import Settings
from mppsconsole.store.db import Database


@dataclasses.dataclass(frozen=True)
class ScpContext:
    db: Database
    settings: Settings
    images_dir: Path
    events: EventHub = dataclasses.field(default_factory=EventHub)
    #: Server behaviour (strict/lenient, injected faults), switchable while serving.
    profile: ProfileHolder = dataclasses.field(default_factory=ProfileHolder)

    def traffic(
        self,
        peer: Peer,
        command: str,
        status: str,
        detail: str = "",
        subject: Subject | None = None,
        *,
        alert: str = "",
    ) -> None:
        """Announce one received message (or association event): traffic log and audit trail."""
        traffic = Traffic(now(), "in", str(peer), command, status, detail, alert, subject)
        self.events.publish(traffic)

    @property
    def fsync_files(self) -> bool:
        """Received files reach the disk before Success when durability is full."""
        return self.settings.durability == "full"


@dataclasses.dataclass(frozen=True)
class Peer:
    ae_title: str
    address: str

    @classmethod
    def of(cls, event: Event) -> Peer:
        requestor = event.assoc.requestor
        return cls(str(requestor.ae_title).strip(), f"{requestor.address}:{requestor.port}")

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.address}"


def now() -> dt.datetime:
    """Local time with its offset: history and file times read as the user's clock."""
    return dt.datetime.now().astimezone()
