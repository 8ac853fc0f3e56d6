"""The one place that tells the user something: status bar, log, and dialogs.

Known errors (UserError) get a dialog that says what happened and what to
check; anything else is a bug: logged with its traceback and shown as such.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from mppsconsole.core.errors import ConfigError, InputError, PeerError, UserError

log = logging.getLogger(__name__)
STATUS_TIMEOUT_MS = 10_000


def hint_for(error: BaseException) -> str:
    """What the user should check, judged from the kind of failure."""
    text = str(error).lower()
    if isinstance(error, PeerError):
        if "refused" in text and "connect" in text:
            return QCoreApplication.translate(
                "Messages", "Check the node's host and port, and that its DICOM service is running."
            )
        if "rejected" in text and "called ae" in text:
            return QCoreApplication.translate(
                "Messages", "Check the called AE title configured for this node."
            )
        if "rejected" in text and "calling ae" in text:
            return QCoreApplication.translate(
                "Messages", "The peer does not know our AE title: ask its administrator to add it."
            )
        if "no answer" in text or "timeout" in text or "no response" in text:
            return QCoreApplication.translate(
                "Messages",
                "The peer did not answer in time: check the network and the peer's load.",
            )
        return QCoreApplication.translate(
            "Messages", "The peer refused the request: its error comment above says why."
        )
    if isinstance(error, ConfigError):
        return QCoreApplication.translate(
            "Messages", "Correct the settings file at the line shown, or use the Settings dialog."
        )
    if isinstance(error, InputError):
        return QCoreApplication.translate("Messages", "Correct the value shown and try again.")
    return QCoreApplication.translate("Messages", "Check the log file for details.")


class UserMessages(QObject):
    def __init__(self, parent: QWidget, status_bar: QStatusBar) -> None:
        super().__init__(parent)
        self._parent = parent
        self._status_bar = status_bar
        self.last_dialog: QMessageBox | None = None

    def info(self, text: str) -> None:
        log.debug("%s", text)  # may name a patient ("Complete Doe^Jane"): not at INFO
        self._status_bar.showMessage(text, STATUS_TIMEOUT_MS)

    def failure(self, what: str, error: BaseException) -> None:
        """A failed action: status bar, log, and a non-blocking dialog."""
        if isinstance(error, UserError):
            log.debug("%s failed", what)  # ``what`` may name a patient: not at WARNING
            log.warning("action failed: %s", error)
            body = f"{error}\n\n{hint_for(error)}"
            icon = QMessageBox.Icon.Warning
        else:
            details = "".join(traceback.format_exception(error))
            log.debug("%s failed", what)
            log.error("action failed with an internal error:\n%s", details)
            body = (
                QCoreApplication.translate(
                    "Messages", "An internal error occurred; it has been logged."
                )
                + f"\n\n{error!r}"
            )
            icon = QMessageBox.Icon.Critical
        self._status_bar.showMessage(
            QCoreApplication.translate("Messages", "{0} failed").format(what), STATUS_TIMEOUT_MS
        )
        box = QMessageBox(
            icon,
            QCoreApplication.translate("Messages", "{0} failed").format(what),
            body,
            parent=self._parent,
        )
        if not isinstance(error, UserError):
            box.setDetailedText("".join(traceback.format_exception(error)))
        box.open()  # window-modal without blocking the event loop (the SCP keeps serving)
        self.last_dialog = box

    def alert(self, title: str, summary: str, text: str) -> None:
        """A problem of the running service (e.g. the disk is full): status bar and a dialog.

        The status bar keeps it until the next message; a burst (a modality retrying
        image after image) opens one dialog, not one per refused message.
        """
        self._status_bar.showMessage(f"{title}: {summary}")
        if self.last_dialog is not None and self.last_dialog.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self._parent)
        box.open()
        self.last_dialog = box
