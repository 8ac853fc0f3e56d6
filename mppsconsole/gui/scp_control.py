"""The embedded SCP as the window sees it: running or not, why, and what it has done."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from mppsconsole.core.errors import UserError
from mppsconsole.core.events import EventHub, Traffic
from mppsconsole.core.profile import Profile
from mppsconsole.core.settings import Settings
from mppsconsole.net.faults import activate
from mppsconsole.net.server import DepartmentServer
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)

ServerFactory = Callable[[Database, Settings, Path, EventHub], DepartmentServer]


class ScpController(QObject):
    """Starts, restarts and stops the department node; counts its traffic."""

    state_changed = Signal(str, bool)  # text for the indicator, listening?
    profile_changed = Signal()

    def __init__(
        self,
        db: Database,
        hub: EventHub,
        images_dir: Path,
        factory: ServerFactory = DepartmentServer,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._db, self._hub, self._images_dir, self._factory = db, hub, images_dir, factory
        self._server: DepartmentServer | None = None
        self.address: tuple[str, int] | None = None
        self.ae_title = ""
        self.messages = 0
        self.associations = 0
        self.error = ""
        # Server behaviour; kept here so that it survives a restart on a new port.
        self.profile = Profile()

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(
        self, settings: Settings, *, host: str | None = None, port: int | None = None
    ) -> bool:
        """(Re)start on the settings' address; False (and the reason shown) when it cannot bind."""
        self.stop()
        server = self._factory(self._db, settings, self._images_dir, self._hub)
        activate(server.ctx, self.profile)
        try:
            self.address = server.start(host, port)
        except UserError as exc:
            self.error = str(exc)
            self.address = None
            log.error("SCP not started: %s", exc)
            self.state_changed.emit(self.tr("SCP stopped: {0}").format(exc), False)
            return False
        self._server = server
        self.ae_title = settings.ae_title
        self.error = ""
        self._announce()
        return True

    def set_profile(self, profile: Profile) -> None:
        """Make ``profile`` the SCP's behaviour now (no restart) and from every restart on."""
        self.profile = profile
        if self._server is not None:
            activate(self._server.ctx, profile)
        self.profile_changed.emit()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            self.state_changed.emit(self.tr("SCP stopped"), False)

    def count(self, lines: list[Traffic]) -> None:
        """Account for traffic delivered by the bridge (received messages only)."""
        incoming = [line for line in lines if line.direction == "in"]
        self.associations += sum(
            1 for line in incoming if line.command == "ASSOCIATE" and line.status == "accepted"
        )
        self.messages += sum(
            1 for line in incoming if line.command not in ("ASSOCIATE", "RELEASE", "ABORT", "TLS")
        )
        if incoming and self.listening:
            self._announce()

    def _announce(self) -> None:
        assert self.address is not None
        host, port = self.address
        text = self.tr("Listening on {0}@{1}:{2} · {3} associations · {4} messages").format(
            self.ae_title, host, port, self.associations, self.messages
        )
        refused = self._server.refused if self._server is not None else 0
        if refused:
            # Rejected associations and failed TLS handshakes (access list, TLS).
            text += " · " + self.tr("{0} refused").format(refused)
        self.state_changed.emit(text, True)
