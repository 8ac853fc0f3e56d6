"""The only way events cross from SCP/worker threads into Qt.

Publishers (pynetdicom threads, SCU workers) append to a lock-guarded list and,
when it was empty, post one payload-free wake-up to the Qt thread. The Qt
thread drains everything queued in one go, so a burst of a thousand messages
costs one model update, not a thousand repaints (DESIGN.md §5).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from mppsconsole.core.events import Event, EventHub, InstanceStored, StepChanged, Traffic
from mppsconsole.core.step import StepSummary

#: Minimum spacing of drains: bounds the repaint rate under a flood of events.
DRAIN_INTERVAL_MS = 50


class EventBridge(QObject):
    """Batches hub events onto the Qt thread and re-emits them as lists."""

    steps_changed = Signal(list)  # list[StepSummary], last state per step
    instances_changed = Signal(list)  # list[InstanceStored]
    traffic = Signal(list)  # list[Traffic]
    _wake = Signal()

    def __init__(self, hub: EventHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)
        self._wake.connect(self._on_wake)
        hub.subscribe(self._receive)

    def close(self) -> None:
        """Stop receiving (before the hub's publishers are stopped) and delivering.

        What is still queued is dropped: it is in the store already, and the
        window it was for is closing (its slots would read a store being closed).
        """
        self._hub.unsubscribe(self._receive)
        self._timer.stop()
        with self._lock:
            self._pending = []

    def _receive(self, event: Event) -> None:
        """Called on any thread: queue, and wake the Qt thread once per batch."""
        with self._lock:
            first = not self._pending
            self._pending.append(event)
        if first:
            self._wake.emit()  # queued to the Qt thread: the bridge lives there

    @Slot()
    def _on_wake(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def drain(self) -> None:
        """Deliver everything queued so far (also callable directly, e.g. in tests)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        latest: dict[tuple[str, str], StepSummary] = {}
        stored: list[InstanceStored] = []
        lines: list[Traffic] = []
        for event in batch:
            if isinstance(event, StepChanged):
                summary = event.summary
                latest[(summary.sop_instance_uid, summary.direction)] = summary
            elif isinstance(event, InstanceStored):
                stored.append(event)
            else:
                lines.append(event)
        if latest:
            self.steps_changed.emit(list(latest.values()))
        if stored:
            self.instances_changed.emit(stored)
        if lines:
            self.traffic.emit(lines)
