"""Deferred MPPS in the window: a count in the status bar, a dialog to see, retry, cancel.

The outbox lives in the database and other processes (``serve``, the CLI) may
change it, so the window looks at it once a second (one small query) rather
than waiting for events of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.gui.step_model import StepTableModel
from mppsconsole.net import deferred
from mppsconsole.net.deferred import DeferredSender
from mppsconsole.store import outbox
from mppsconsole.store.db import Database

POLL_MS = 1000


class DeferredDialog(QDialog):
    """The waiting messages: step, kind, destination, attempts, next try, last error."""

    def __init__(self, queue: DeferredQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._queue = queue
        self.setWindowTitle(self.tr("Deferred MPPS messages"))
        self.resize(900, 320)
        self.table = QTableWidget(0, 7, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Step"),
                self.tr("Message"),
                self.tr("Destination"),
                self.tr("Attempts"),
                self.tr("Next try"),
                self.tr("Last error"),
                self.tr("Queued"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel(self.tr("No MPPS message is waiting."), self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.retry_button = QPushButton(self.tr("&Retry now"), self)
        self.cancel_button = QPushButton(self.tr("&Cancel message…"), self)
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.retry_button.clicked.connect(self.retry)
        self.cancel_button.clicked.connect(self.ask_cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self.confirm: QMessageBox | None = None
        self._ids: list[int] = []
        self.show_messages(queue.messages)
        queue.changed.connect(self.show_messages)
        self.table.itemSelectionChanged.connect(self._update_buttons)

    def show_messages(self, messages: list[outbox.Deferred]) -> None:
        chosen = self.selected_id()
        self._ids = [m.id for m in messages]
        self.table.setRowCount(len(messages))
        for row, m in enumerate(messages):
            cells = (
                m.step_uid,
                m.kind,
                f"{m.node.ae_title}@{m.node.host}:{m.node.port}",
                str(m.attempts),
                f"{m.next_attempt.astimezone():%H:%M:%S}",
                m.last_error,
                f"{m.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if m.id == chosen:
                self.table.selectRow(row)
        self.empty.setVisible(not messages)
        self._update_buttons()

    def selected_id(self) -> int | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self._ids[min(rows)] if rows and min(rows) < len(self._ids) else None

    def _update_buttons(self) -> None:
        self.retry_button.setEnabled(bool(self._ids))
        self.cancel_button.setEnabled(self.selected_id() is not None)

    def retry(self) -> None:
        """The selected message now (or all of them when none is selected)."""
        self._queue.retry(self.selected_id())

    def ask_cancel(self) -> None:
        message_id = self.selected_id()
        found = next((m for m in self._queue.messages if m.id == message_id), None)
        if found is None:
            return
        text = self.tr("Cancel the deferred {0} of step {1}? It will never be sent.").format(
            found.kind, found.step_uid
        )
        if found.kind == outbox.N_CREATE:
            text += "\n\n" + self.tr(
                "The step's later N-SET messages are cancelled with it: the destination "
                "will never hear of this step."
            )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Cancel deferred message"),
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(
            lambda answer: (
                self._queue.cancel(found.id) if answer == QMessageBox.StandardButton.Yes else None
            )
        )
        box.open()  # window-modal without blocking the event loop
        self.confirm = box


class DeferredQueue(QObject):
    """Watches the outbox: the status-bar count, the steps table marks, the dialog."""

    changed = Signal(list)  # list[outbox.Deferred]

    def __init__(
        self,
        db: Database,
        sender: DeferredSender | None,
        model: StepTableModel,
        parent: QWidget,
        info: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._sender = sender
        self._model = model
        self._parent = parent
        self._info = info
        self.messages: list[outbox.Deferred] = []
        self.button = QToolButton(parent)
        self.button.setAutoRaise(True)
        self.button.setToolTip(self.tr("MPPS messages waiting for their destination"))
        self.button.clicked.connect(self.open_dialog)
        self.button.hide()
        self.dialog: DeferredDialog | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def refresh(self) -> None:
        if not self._parent.isVisible():
            return  # a closed window (its database may be closed already)
        with self._db.reading() as conn:
            messages = outbox.open_messages(conn)
        if messages == self.messages:
            return
        new = {m.id for m in messages} - {m.id for m in self.messages}
        self.messages = messages
        if new and self._info is not None:
            self._info(
                self.tr(
                    "MPPS destination not reachable: %n message(s) deferred, retried later",
                    "",
                    len(new),
                )
            )
        self.button.setText(self.tr("Deferred: %n", "", len(messages)))
        self.button.setVisible(bool(messages))
        self._model.set_deferred(frozenset(m.step_uid for m in messages))
        self.changed.emit(messages)

    def open_dialog(self) -> DeferredDialog:
        if self.dialog is None:
            self.dialog = DeferredDialog(self, self._parent)
        self.dialog.show()
        return self.dialog

    def retry(self, message_id: int | None) -> None:
        deferred.retry_now(self._db, message_id)
        if self._sender is not None:
            self._sender.wake()
        self.refresh()

    def cancel(self, message_id: int) -> None:
        deferred.cancel(self._db, message_id)
        self.refresh()
