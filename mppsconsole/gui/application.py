"""The GUI's composition root: Qt application, translations, asyncio loop, store, SCP, window.

Shutdown order matters: stop the SCP (no new messages), let running SCU tasks
finish or cancel, close the window, and close the database last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from mppsconsole import __version__
from mppsconsole.core.errors import UserError
from mppsconsole.core.events import EventHub
from mppsconsole.core.settings import Settings
from mppsconsole.gui.icons import app_icon
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.net.deferred import DeferredSender
from mppsconsole.paths import Locations
from mppsconsole.resources import translations_dir
from mppsconsole.store.audit import trail as audit_trail
from mppsconsole.store.db import Database

log = logging.getLogger(__name__)
# Through the resource module: the folder differs in a PyInstaller bundle.
TRANSLATIONS_DIR = translations_dir()
SMOKE_TEST_MS = 1500


def install_translators(app: QApplication, language: str) -> list[QTranslator]:
    """Our strings and Qt's own dialogs in ``language`` ("" = the system locale)."""
    locale = QLocale(language) if language else QLocale.system()
    installed = []
    for name, folder in (
        ("mppsconsole", str(TRANSLATIONS_DIR)),
        ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
    ):
        translator = QTranslator(app)
        if translator.load(locale, name, "_", folder):
            app.installTranslator(translator)
            installed.append(translator)
    return installed


def run_gui(locations: Locations, settings: Settings, *, smoke_test: bool = False) -> int:
    """Show the window until it is closed; ``smoke_test`` closes it after it has been shown."""
    import qasync

    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("MPPS Console")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("mppsconsole")  # ties the window to mppsconsole.desktop (Wayland)
    install_translators(app, settings.language)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    db = Database(locations.database, durability=settings.durability)
    hub = EventHub()
    trail = contextlib.ExitStack()  # from before the SCP starts: no message goes unaudited
    trail.enter_context(audit_trail(db, hub, "gui"))
    scp = ScpController(db, hub, locations.storage_dir(settings.storage_dir))
    sender = DeferredSender(db, hub)
    sender.start()
    window = MainWindow(
        ConsoleContext(db, hub, settings, locations.config_file, locations.data_dir, scp, sender)
    )
    scp.start(settings)
    if scp.error:
        window.messages.failure(window.tr("Start the SCP"), UserError(scp.error))
    window.show()
    log.info("window shown %.0f ms after start", (time.perf_counter() - started) * 1000)
    if smoke_test:
        QTimer.singleShot(SMOKE_TEST_MS, window.close)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    with loop, trail:  # the trail is written out after the SCP and the tasks stopped
        loop.run_until_complete(closed.wait())
        scp.stop()
        loop.run_until_complete(window.runner.wait_idle())
    sender.stop()
    db.close()
    if smoke_test:
        print("smoke test: window shown and closed")
    return 0
