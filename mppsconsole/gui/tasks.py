"""Running blocking SCU work off the Qt thread (asyncio.to_thread under qasync).

pynetdicom calls block for up to their timeouts; the window must stay
responsive and show progress. A task reports progress through a Qt signal
(queued onto the Qt thread) and may be cancelled through a threading.Event
that the service function checks between images.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from mppsconsole.core.errors import UserError


@dataclasses.dataclass
class Task:
    label: str  # what kind of work (used to know what is busy)
    what: str = ""  # how the user calls it ("Complete Doe^Jane")
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    future: asyncio.Future[Any] | None = None


class TaskRunner(QObject):
    """Starts service calls in worker threads and reports on the Qt thread."""

    started = Signal(object)  # Task
    progressed = Signal(object, int, int)  # Task, done, total
    succeeded = Signal(object, object)  # Task, result
    failed = Signal(object, object)  # Task, exception (UserError: known; else a bug)
    cancelled = Signal(object)  # Task

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.running: list[Task] = []

    def run(self, label: str, work: Callable[[Task], Any], what: str = "") -> Task:
        """Run ``work(task)`` in a thread; ``work`` may report through ``self.progress(task)``."""
        task = Task(label, what or label)
        self.running.append(task)
        self.started.emit(task)
        task.future = asyncio.ensure_future(self._run(task, work))
        return task

    def progress(self, task: Task) -> Callable[[int, int], None]:
        """A progress callback for service functions; safe to call from the worker thread."""
        return lambda done, total: self.progressed.emit(task, done, total)

    async def _run(self, task: Task, work: Callable[[Task], Any]) -> None:
        try:
            result = await asyncio.to_thread(work, task)
        except UserError as exc:
            if task.cancel.is_set():
                self.cancelled.emit(task)
            else:
                self.failed.emit(task, exc)
        except Exception as exc:  # a bug: the window shows it and logs the traceback
            self.failed.emit(task, exc)
        else:
            self.succeeded.emit(task, result)
        finally:
            self.running.remove(task)

    async def wait_idle(self) -> None:
        """Await every running task (shutdown, tests)."""
        futures = [t.future for t in self.running if t.future is not None]
        if futures:
            await asyncio.gather(*futures, return_exceptions=True)
