"""Run a scenario file from the window: pick it, watch its progress, read the verdicts.

The run goes to the MPPS destination of the settings, on a worker thread (gui.tasks);
its progress lines cross into Qt through a queued signal, and the PASS / FAIL
summary opens in a dialog at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from mppsconsole.core.errors import InputError
from mppsconsole.core.scenario import Scenario, parse_scenario
from mppsconsole.gui.tasks import Task
from mppsconsole.net.scenario_runner import RunResult, ScenarioRunner
from mppsconsole.net.workstation import Workstation
from mppsconsole.resources import DEMO_SCENARIOS, demo_scenario

if TYPE_CHECKING:
    from mppsconsole.gui.main_window import MainWindow

# Time scale of a run started from the window: an hour of the scenario per minute.
SPEED = 60.0


class ScenarioLauncher(QObject):
    line = Signal(str)  # a progress line, emitted on the worker thread

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.action = QAction(self.tr("Run &scenario…"), window)
        self.action.setStatusTip(self.tr("Play a scenario file against the MPPS destination"))
        self.action.triggered.connect(self.choose)
        self.progress: QProgressDialog | None = None
        self.summary: QMessageBox | None = None
        self._task: Task | None = None
        self.line.connect(self._on_line)
        window.runner.succeeded.connect(self._on_done)
        window.runner.failed.connect(self._on_failed)
        window.runner.cancelled.connect(self._on_cancelled)

    def choose(self) -> None:
        folder = demo_scenario(DEMO_SCENARIOS[0]).parent
        path, _ = QFileDialog.getOpenFileName(
            self._window, self.tr("Run scenario"), str(folder), self.tr("Scenario files (*.toml)")
        )
        if path:
            self.run_file(Path(path))

    def run_file(self, path: Path, speed: float = SPEED) -> Task | None:
        window = self._window
        what = self.tr("Run scenario")
        try:
            text = path.read_text(encoding="utf-8-sig")
            scenario = parse_scenario(text, str(path))
        except (OSError, UnicodeDecodeError) as exc:
            window.messages.failure(what, InputError(f"{path}: cannot read: {exc}"))
            return None
        except InputError as exc:
            window.messages.failure(what, exc)
            return None
        name = window.settings.mpps_destination
        node = window.resolve_node(name)
        if node is None:
            window.messages.failure(what, InputError(self.tr("no node named {0}").format(name)))
            return None
        station = Workstation.from_settings(window.settings, scenario.station_ae or None)
        db = window.ctx.db

        def work(task: Task) -> RunResult:
            runner = ScenarioRunner(
                db, station, node, speed=speed, report=self.line.emit, cancel=task.cancel
            )
            return runner.run(scenario)

        self._task = window.runner.run("scenario", work, f"{what}: {scenario.name}")
        self._show_progress(scenario)
        return self._task

    def _show_progress(self, scenario: Scenario) -> None:
        dialog = QProgressDialog(
            self.tr("Starting…"), self.tr("Cancel"), 0, 2 * len(scenario.steps), self._window
        )
        dialog.setWindowTitle(scenario.name)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setMinimumDuration(0)
        task = self._task
        if task is not None:
            dialog.canceled.connect(task.cancel.set)
        self.progress = dialog

    def _on_line(self, text: str) -> None:
        if self.progress is None:
            return
        self.progress.setLabelText(text)
        if text.startswith("step "):
            self.progress.setValue(min(self.progress.maximum(), self.progress.value() + 1))
        self._window.messages.info(text)

    def _finish(self, task: Task) -> bool:
        if task is not self._task:
            return False
        self._task = None
        if self.progress is not None:
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None
        return True

    def _on_done(self, task: Task, result: Any) -> None:
        if not self._finish(task):
            return
        verdicts = result.verdicts
        passed = sum(v.passed for v in verdicts)
        marks = {True: self.tr("PASS"), False: self.tr("FAIL")}
        lines = [f"{marks[v.passed]}  {v.expectation.describe()}: {v.actual}" for v in verdicts]
        head = self.tr("{0} of {1} expectation(s) passed").format(passed, len(verdicts))
        box = QMessageBox(
            QMessageBox.Icon.Information if result.passed else QMessageBox.Icon.Warning,
            task.what,
            head,
            parent=self._window,
        )
        box.setDetailedText("\n".join(lines))
        box.open()
        self.summary = box
        self._window.reload_steps()

    def _on_failed(self, task: Task, error: BaseException) -> None:
        if self._finish(task):
            self._window.messages.failure(task.what, error)

    def _on_cancelled(self, task: Task) -> None:
        if self._finish(task):
            self._window.messages.info(self.tr("{0}: cancelled").format(task.what))
