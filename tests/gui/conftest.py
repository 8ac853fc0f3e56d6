"""GUI test fixtures: offscreen Qt, a qasync loop on pytest-qt's app, runner and messages.

Every GUI test fails on a Qt warning (DESIGN.md §2), and every task a test starts is
finished (or stopped) before the loop closes, so no worker thread outlives its test.
"""

from __future__ import annotations

import os

# Before anything imports Qt: no display is needed, and none is available in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from mppsconsole.gui.messages import UserMessages
from mppsconsole.gui.tasks import TaskRunner

TASK_TIMEOUT_MS = 20_000


#: Qt messages that are no fault of the code under test.
QT_NOISE = (
    # The offscreen platform cannot pass size hints to a window manager it does not have.
    r"This plugin does not support propagateSizeHints\(\)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Qt warnings fail GUI tests (DESIGN.md §2), except the offscreen platform's noise."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*QT_NOISE))


@pytest.fixture
def qasync_loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """An asyncio loop driven by the Qt event loop that qtbot spins (waitUntil, waitSignal)."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    # loop.stop() would call QApplication.exit(), and outside exec() that makes every
    # later QEventLoop.exec() (waitSignal, dialogs) return at once: mark it stopped instead.
    loop._QEventLoop__is_running = False
    qapp.aboutToQuit.disconnect(loop._after_run_forever)
    loop.close()  # joins the executor's worker threads
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def runner(qasync_loop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[TaskRunner]:
    """A TaskRunner whose leftover tasks are cancelled and awaited at teardown."""
    task_runner = TaskRunner()
    yield task_runner
    for task in task_runner.running:
        task.cancel.set()
    qtbot.waitUntil(lambda: not task_runner.running, timeout=TASK_TIMEOUT_MS)


def wait_idle(qtbot: QtBot, runner: TaskRunner) -> None:
    """Wait (bounded) until every task of ``runner`` has reported."""
    qtbot.waitUntil(lambda: not runner.running, timeout=TASK_TIMEOUT_MS)


class RecordingMessages(UserMessages):
    """The real UserMessages (status bar, log, dialog), remembering what it was told."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window, window.statusBar())
        self.infos: list[str] = []
        self.failures: list[tuple[str, BaseException]] = []

    def info(self, text: str) -> None:
        self.infos.append(text)
        super().info(text)

    def failure(self, what: str, error: BaseException) -> None:
        self.failures.append((what, error))
        super().failure(what, error)


@pytest.fixture
def messages(qtbot: QtBot) -> Iterator[RecordingMessages]:
    """UserMessages on a hidden main window; dialogs it opened are closed afterwards."""
    window = QMainWindow()
    qtbot.addWidget(window)
    recorder = RecordingMessages(window)
    yield recorder
    if recorder.last_dialog is not None:
        recorder.last_dialog.close()


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
