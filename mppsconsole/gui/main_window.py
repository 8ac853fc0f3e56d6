"""The console window: steps, details, worklist, actions, traffic log, server status."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QProgressDialog,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from mppsconsole.core import audit, mpps
from mppsconsole.core.errors import InputError, UserError
from mppsconsole.core.events import EventHub, Subject, Traffic
from mppsconsole.core.profile import describe as describe_profile
from mppsconsole.core.settings import SELF_NODE, Node, Settings, save_settings
from mppsconsole.core.step import SENT, StepSummary
from mppsconsole.core.validation import Finding
from mppsconsole.core.worklist import WorklistItem
from mppsconsole.gui.bridge import EventBridge
from mppsconsole.gui.deferred_panel import DeferredQueue
from mppsconsole.gui.detail_pane import DetailPane
from mppsconsole.gui.dialogs import DiscontinueDialog, ImagesDialog, UnscheduledDialog
from mppsconsole.gui.messages import UserMessages
from mppsconsole.gui.scenario_launcher import ScenarioLauncher
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.gui.step_model import StepTableModel
from mppsconsole.gui.steps_panel import StepsPanel
from mppsconsole.gui.tasks import Task, TaskRunner
from mppsconsole.gui.traffic_log import TrafficDock
from mppsconsole.net import modality
from mppsconsole.net.deferred import DeferredSender
from mppsconsole.net.echo_scu import echo
from mppsconsole.net.images import TRANSFER_SYNTAX_CHOICES
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import audit as audit_store
from mppsconsole.store import findings, steps
from mppsconsole.store.db import Database

COMMIT_WAIT_S = 30.0
#: Audit event and action of the window's tasks, by the first word of their label.
_TASK_AUDIT = {
    "start": (audit.PROCEDURE_RECORD, audit.CREATE),
    "step": (audit.PROCEDURE_RECORD, audit.UPDATE),  # complete or discontinue
    "images": (audit.BEGIN_TRANSFERRING, audit.EXECUTE),
    "commit": (audit.INSTANCES_TRANSFERRED, audit.EXECUTE),
    "echo": (audit.APPLICATION_ACTIVITY, audit.EXECUTE),
}


@dataclasses.dataclass
class ConsoleContext:
    """What the window works with, built by the composition root (gui.application)."""

    db: Database
    hub: EventHub
    settings: Settings
    config_path: Path
    data_dir: Path
    scp: ScpController
    outbox: DeferredSender | None = None  # the deferred-MPPS retry worker


class MainWindow(QMainWindow):
    def __init__(self, context: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = context
        self.settings = context.settings
        self.setWindowTitle(self.tr("MPPS Console"))
        self.resize(1400, 860)

        self.runner = TaskRunner(self)
        self._own_tasks: set[int] = set()  # panels report their own tasks
        self.model = StepTableModel(self)
        self.steps_panel = StepsPanel(self.model, self)
        self.detail = DetailPane(context.db, self)
        self.model.findings_of = self._findings_of
        self.messages = UserMessages(self, self.statusBar())
        from mppsconsole.gui.worklist_panel import WorklistPanel

        self.worklist = WorklistPanel(
            context.db,
            self.runner,
            self.messages,
            lambda: self.settings,
            lambda: self.settings.ae_title,
            self,
        )
        self.traffic = TrafficDock(context.data_dir / "logs", self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.traffic)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.steps_panel)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 420])
        self.split = split
        self.tabs = QTabWidget(self)
        self.tabs.addTab(split, self.tr("&Procedure steps"))
        self.tabs.addTab(self.worklist, self.tr("&Worklist"))
        self.setCentralWidget(self.tabs)

        self.server_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.server_label)
        self.faults_label = QLabel(self)  # never forget that the SCP misbehaves on purpose
        self.faults_label.setStyleSheet("color: #c8452f; font-weight: bold")
        self.statusBar().addPermanentWidget(self.faults_label)
        context.scp.profile_changed.connect(self._on_profile_changed)
        self._on_profile_changed()
        self.deferred = DeferredQueue(
            context.db, context.outbox, self.model, self, self.messages.info
        )
        self.statusBar().addPermanentWidget(self.deferred.button)
        self.progress: QProgressDialog | None = None

        self._make_actions()
        self.bridge = EventBridge(context.hub, self)
        self.bridge.steps_changed.connect(self._on_steps_changed)
        self.bridge.traffic.connect(self._on_traffic)
        self.bridge.instances_changed.connect(lambda _: self.detail.reload())
        context.scp.state_changed.connect(self._on_server_state)
        self.steps_panel.selection_changed.connect(self._on_selection)
        self.detail.copied.connect(self.messages.info)
        self.detail.failed.connect(self.messages.failure)
        self.worklist.start_requested.connect(self.start_scheduled)
        self.runner.succeeded.connect(self._on_task_done)
        self.runner.failed.connect(self._on_task_failed)
        self.runner.cancelled.connect(self._on_task_cancelled)
        self.runner.progressed.connect(self._on_progress)

        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.steps_panel.tick)
        self._clock.start()
        self._restore_layout()
        self.reload_steps()
        self._update_actions()

    # -- construction ----------------------------------------------------------

    def _action(
        self,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey | str,
        slot: Callable[[], Any],
        tip: str,
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        tr = self.tr
        self.act_start = self._action(
            tr("&Start…"),
            "Ctrl+N",
            self.start_unscheduled,
            tr("Start an unscheduled procedure step"),
        )
        self.act_complete = self._action(
            tr("&Complete…"),
            "Ctrl+Return",
            self.complete_selected,
            tr("Send test images, then complete the selected step"),
        )
        self.act_discontinue = self._action(
            tr("&Discontinue…"),
            "Ctrl+Shift+D",
            self.discontinue_selected,
            tr("Discontinue the selected step with a reason"),
        )
        self.act_images = self._action(
            tr("Send &images…"),
            "Ctrl+I",
            self.send_images_selected,
            tr("Generate and store test images for the selected step"),
        )
        self.act_commit = self._action(
            tr("Co&mmit"),
            "Ctrl+Shift+M",
            self.commit_selected,
            tr("Request storage commitment for the step's images"),
        )
        self.act_echo = self._action(
            tr("&Echo…"), "Ctrl+E", self.echo_node, tr("Verify a node with C-ECHO")
        )
        self.act_settings = self._action(
            tr("Se&ttings…"),
            "Ctrl+,",
            self.open_settings,
            tr("Local node, remote nodes and destinations"),
        )
        self.act_behaviour = self._action(
            tr("Server &behaviour…"),
            "Ctrl+Shift+B",
            self.open_behaviour,
            tr("Strict or lenient rules and injected faults of the running SCP"),
        )
        self.act_filter = self._action(
            tr("&Find"),
            QKeySequence.StandardKey.Find,
            self._focus_filter,
            tr("Filter the procedure steps"),
        )
        self.act_export = self._action(
            tr("E&xport step…"),
            "Ctrl+Shift+S",
            lambda: self.detail.export_json(),
            tr("Export the selected step as JSON"),
        )
        self.act_export_audit = self._action(
            tr("Export &audit trail…"),
            "Ctrl+Shift+A",
            lambda: self.export_audit(),
            tr("Write the audit trail as JSON lines, optionally de-identified"),
        )
        self.act_quit = self._action(
            tr("&Quit"), QKeySequence.StandardKey.Quit, self.close, tr("Quit MPPS Console")
        )
        toolbar = QToolBar(tr("Actions"), self)
        toolbar.setObjectName("actions")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (
            self.act_start,
            self.act_complete,
            self.act_discontinue,
            self.act_images,
            self.act_commit,
            None,
            self.act_echo,
            self.act_settings,
        ):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)
        self.addToolBar(toolbar)
        menu = self.menuBar()
        file_menu = menu.addMenu(tr("&File"))
        file_menu.addAction(self.act_export)
        file_menu.addAction(self.act_export_audit)
        file_menu.addAction(self.act_settings)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        step_menu = menu.addMenu(tr("&Step"))
        for action in (
            self.act_start,
            self.act_complete,
            self.act_discontinue,
            self.act_images,
            self.act_commit,
        ):
            step_menu.addAction(action)
        node_menu = menu.addMenu(tr("&Network"))
        node_menu.addAction(self.act_echo)
        node_menu.addAction(self.act_behaviour)
        self.scenarios = ScenarioLauncher(self)
        node_menu.addAction(self.scenarios.action)
        view_menu = menu.addMenu(tr("&View"))
        view_menu.addAction(self.act_filter)
        view_menu.addAction(self.traffic.toggleViewAction())

    # -- state ---------------------------------------------------------------

    def reload_steps(self) -> None:
        """Load every step from the store (start-up, and after the store changed offline)."""
        with self.ctx.db.reading() as conn:
            self.model.load(steps.list_rows(conn))
        self.steps_panel.refresh_selection()

    def _findings_of(self, uid: str, direction: str) -> list[Finding]:
        with self.ctx.db.reading() as conn:
            return findings.for_step(conn, uid, direction)

    def _on_steps_changed(self, changed: list[StepSummary]) -> None:
        self.model.apply(changed)
        shown = (self.detail.uid, self.detail.direction)
        if any((s.sop_instance_uid, s.direction) == shown for s in changed):
            self.detail.reload()
            self._update_actions()
        self.worklist.reload()

    def _on_traffic(self, lines: list[Traffic]) -> None:
        self.traffic.append(lines)
        self.ctx.scp.count(lines)
        self._show_alerts(lines)

    def _show_alerts(self, lines: list[Traffic]) -> None:
        """What the SCP could not store must be seen, not only logged (e.g. a full disk)."""
        alerts = [line.alert for line in lines if line.alert]
        if alerts:
            body = self.tr(
                "Received data could not be stored:\n{0}\n\n"
                "Free space on the disk of the data directory; the sender was told to retry."
            ).format(alerts[-1])
            self.messages.alert(self.tr("Storing failed"), alerts[-1], body)

    def _on_server_state(self, text: str, listening: bool) -> None:
        colour = "#2e9d4f" if listening else "#c8452f"
        self.server_label.setText(f'<span style="color:{colour}">●</span> {text}')

    def _on_selection(self, step: StepSummary | None) -> None:
        self.detail.show_step(step)
        self._update_actions()

    def selected(self) -> StepSummary | None:
        return self.steps_panel.selected_step()

    def _update_actions(self) -> None:
        step = self.selected()
        busy = {t.label for t in self.runner.running}
        open_sent = (
            step is not None
            and step.direction == SENT
            and step.status == mpps.IN_PROGRESS
            and f"step {step.sop_instance_uid}" not in busy
        )
        self.act_complete.setEnabled(open_sent)
        self.act_discontinue.setEnabled(open_sent)
        self.act_images.setEnabled(step is not None)
        self.act_commit.setEnabled(step is not None and step.image_count > 0)
        self.act_export.setEnabled(step is not None)

    def _focus_filter(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.steps_panel.search.setFocus()
        self.steps_panel.search.selectAll()

    # -- actions ---------------------------------------------------------------

    def _station(self) -> Workstation:
        return Workstation.from_settings(self.settings)

    def resolve_node(self, name: str) -> Node | None:
        """A node by name; "self" follows the port the embedded SCP actually listens on."""
        node = self.settings.node(name)
        address = self.ctx.scp.address
        configured = any(n.name == SELF_NODE for n in self.settings.nodes)
        if node is not None and name == SELF_NODE and address is not None and not configured:
            node = dataclasses.replace(node, port=address[1])
        return node

    def _node(self, kind: str) -> Node:
        name = getattr(self.settings, f"{kind}_destination")
        node = self.resolve_node(name)
        if node is None:
            raise InputError(self.tr("no node named {0} for {1}").format(name, kind))
        return node

    def _run(self, label: str, what: str, work: Callable[[Task], Any]) -> Task:
        """Start ``work`` off the GUI thread; ``what`` names it to the user."""
        task = self.runner.run(label, work, what)
        self._own_tasks.add(id(task))
        self.messages.info(self.tr("{0}…").format(what))
        self._update_actions()
        return task

    def start_scheduled(self, items: list[WorklistItem]) -> None:
        if not items:
            return
        db, station, hub = self.ctx.db, self._station(), self.ctx.hub
        try:
            node = self._node("mpps")
        except InputError as exc:
            self.messages.failure(self.tr("Start"), exc)
            return
        chosen = list(items)
        self._run(
            "start",
            self.tr("Start {0}").format(chosen[0].accession_number or chosen[0].patient_name),
            lambda task: modality.start_step(db, station, node, items=chosen, events=hub),
        )

    def start_unscheduled(self) -> None:
        dialog = UnscheduledDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        p = dialog.patient()
        if not p.name or not p.id:
            self.messages.failure(
                self.tr("Start"), InputError(self.tr("patient name and ID are required"))
            )
            return
        db, station, hub = self.ctx.db, self._station(), self.ctx.hub
        try:
            node = self._node("mpps")
        except InputError as exc:
            self.messages.failure(self.tr("Start"), exc)
            return
        patient = Patient(p.name, p.id, p.birth_date, p.sex)
        self._run(
            "start",
            self.tr("Start unscheduled {0}").format(p.name),
            lambda task: modality.start_step(
                db, station, node, patient=patient, modality=p.modality, events=hub
            ),
        )

    def complete_selected(self, image_count: int | None = None, syntax: str = "explicit") -> None:
        step = self.selected()
        if step is None or not self.act_complete.isEnabled():
            return
        if image_count is None:
            dialog = ImagesDialog(
                self.tr("Complete procedure step"), step.modality, minimum=0, default=1, parent=self
            )
            dialog.modality.setEnabled(False)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            image_count, syntax = dialog.request().count, dialog.request().transfer_syntax
        db, station, hub = self.ctx.db, self._station(), self.ctx.hub
        try:
            node, storage = self._node("mpps"), self._node("storage")
        except InputError as exc:
            self.messages.failure(self.tr("Complete"), exc)
            return
        uid, count = step.sop_instance_uid, image_count
        task = self._run(
            f"step {uid}",
            self.tr("Complete {0}").format(step.patient_name),
            lambda task: modality.complete_step(
                db,
                station,
                node,
                uid,
                image_count=count,
                storage_node=storage,
                transfer_syntax=TRANSFER_SYNTAX_CHOICES[syntax],
                events=hub,
                progress=self.runner.progress(task),
                cancel=task.cancel,
            ),
        )
        if count:
            self._show_progress(task, count)

    def discontinue_selected(self, reason: Any = None) -> None:
        step = self.selected()
        if step is None or not self.act_discontinue.isEnabled():
            return
        if reason is None:
            dialog = DiscontinueDialog(self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            reason = dialog.reason()
        db, station, hub = self.ctx.db, self._station(), self.ctx.hub
        try:
            node = self._node("mpps")
        except InputError as exc:
            self.messages.failure(self.tr("Discontinue"), exc)
            return
        uid, code = step.sop_instance_uid, reason
        self._run(
            f"step {uid}",
            self.tr("Discontinue {0}").format(step.patient_name),
            lambda task: modality.discontinue_step(db, station, node, uid, code, events=hub),
        )

    def send_images_selected(self, count: int | None = None, syntax: str = "explicit") -> None:
        step = self.selected()
        if step is None:
            return
        chosen_modality = step.modality
        if count is None:
            dialog = ImagesDialog(
                self.tr("Send test images"), step.modality, minimum=1, default=5, parent=self
            )
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            request = dialog.request()
            count, syntax, chosen_modality = (
                request.count,
                request.transfer_syntax,
                request.modality,
            )
        db, station, hub = self.ctx.db, self._station(), self.ctx.hub
        try:
            node = self._node("storage")
        except InputError as exc:
            self.messages.failure(self.tr("Send images"), exc)
            return
        uid, n = step.sop_instance_uid, count
        task = self._run(
            "images",
            self.tr("Send {0} images").format(n),
            lambda task: modality.send_images(
                db,
                station,
                node,
                count=n,
                modality=chosen_modality,
                mpps_uid=uid,
                transfer_syntax=TRANSFER_SYNTAX_CHOICES[syntax],
                events=hub,
                progress=self.runner.progress(task),
                cancel=task.cancel,
            ),
        )
        self._show_progress(task, n)

    def commit_selected(self) -> None:
        step = self.selected()
        if step is None:
            return
        db, station = self.ctx.db, self._station()
        try:
            node = self._node("commitment")
        except InputError as exc:
            self.messages.failure(self.tr("Storage commitment"), exc)
            return
        uid = step.sop_instance_uid
        self._run(
            "commit",
            self.tr("Storage commitment"),
            lambda task: modality.commit_step(db, station, node, uid, wait=COMMIT_WAIT_S),
        )

    def echo_node(self, name: str | None = None) -> None:
        names = ["self", *(n.name for n in self.settings.nodes if n.name != "self")]
        if name is None:
            name, ok = QInputDialog.getItem(
                self, self.tr("Echo"), self.tr("Node:"), names, 0, False
            )
            if not ok:
                return
        node = self.resolve_node(name)
        if node is None:
            return
        ae = self.settings.ae_title
        self._run(
            "echo", self.tr("Echo {0}").format(node.name), lambda task: (node, echo(ae, node))
        )

    def export_audit(self, path: Path | None = None, deidentify: bool = True) -> None:
        """Export the audit trail on a worker; without ``path``, ask where and how."""
        from mppsconsole.gui.audit_export import AuditExportDialog, export_audit_file

        if path is None:
            dialog = AuditExportDialog(Path.home(), self)
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            path, deidentify = dialog.path(), dialog.deidentify.isChecked()
            dialog.deleteLater()
            if not accepted or path is None:
                return
        target, db = path, self.ctx.db
        self._run(
            "audit",
            self.tr("Export audit trail"),
            lambda task: (target, export_audit_file(db, target, deidentify)),
        )

    def _audit_task(self, task: Task, outcome: int, status: str, detail: str = "") -> None:
        """One audit record per user action run as a task (the export audits itself).

        The messages the action sent are audited too, from the traffic events.
        """
        if task.label == "audit":
            return
        kind, _, uid = task.label.partition(" ")
        event, action = _TASK_AUDIT.get(kind, (audit.APPLICATION_ACTIVITY, audit.EXECUTE))
        record = audit.manual(
            event,
            action,
            f"gui {kind}",
            outcome=outcome,
            status=status,
            subject=Subject(instance_uid=uid),
            detail=detail,
        )
        self._write_audit(record)

    # -- task results ------------------------------------------------------------

    def _show_progress(self, task: Task, total: int) -> None:
        dialog = QProgressDialog(self.tr("Sending images…"), self.tr("Cancel"), 0, total, self)
        dialog.setWindowTitle(task.what)
        dialog.setWindowModality(Qt.WindowModality.NonModal)
        dialog.setMinimumDuration(500)
        dialog.canceled.connect(task.cancel.set)
        dialog.setProperty("task", id(task))
        self.progress = dialog

    def _on_progress(self, task: Task, done: int, total: int) -> None:
        if self.progress is not None and self.progress.property("task") == id(task):
            self.progress.setMaximum(total)
            self.progress.setValue(done)

    def _close_progress(self, task: Task) -> None:
        if self.progress is not None and self.progress.property("task") == id(task):
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None

    def _mine(self, task: Task) -> bool:
        """True (once) for a task this window started; others report themselves."""
        if id(task) in self._own_tasks:
            self._own_tasks.discard(id(task))
            return True
        return False

    def _on_task_done(self, task: Task, result: Any) -> None:
        if not self._mine(task):
            return
        self._audit_task(task, audit.SUCCESS, "ok")
        self._close_progress(task)
        what = task.what
        if isinstance(result, StepSummary):
            text = self.tr("{0}: {1}").format(what, result.status)
            if task.label == "start":
                self.tabs.setCurrentIndex(0)
                self.model.apply([result])
                self.steps_panel.select(result.sop_instance_uid, result.direction)
        elif task.label == "echo":
            node, seconds = result
            text = self.tr("Echo {0}: success ({1:.0f} ms)").format(node.name, seconds * 1000)
        elif task.label == "commit":
            text = self.tr("Storage commitment: {0} committed, {1} failed").format(
                len(result.committed), len(result.failed)
            )
            if result.failed:
                self.messages.failure(self.tr("Storage commitment"), InputError(text))
        elif task.label == "audit":
            target, count = result
            text = self.tr("Audit trail: {0} record(s) exported to {1}").format(count, target)
        elif task.label == "images":
            text = self.tr("{0}: {1} sent").format(what, len(result))
        else:
            text = self.tr("{0}: done").format(what)
        self.messages.info(text)
        self._update_actions()
        self.detail.reload()

    def _on_task_failed(self, task: Task, error: BaseException) -> None:
        if not self._mine(task):
            return
        if isinstance(error, UserError):
            self._audit_task(task, audit.MINOR_FAILURE, "failed", str(error))
        else:
            self._audit_task(task, audit.SERIOUS_FAILURE, "internal error", type(error).__name__)
        self._close_progress(task)
        self.messages.failure(task.what, error)
        self._update_actions()

    def _on_task_cancelled(self, task: Task) -> None:
        if not self._mine(task):
            return
        self._audit_task(task, audit.MINOR_FAILURE, "cancelled")
        self._close_progress(task)
        self.messages.info(self.tr("{0}: cancelled").format(task.what))
        self._update_actions()

    # -- settings and layout -------------------------------------------------------

    def open_settings(self) -> None:
        from mppsconsole.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(
            self.settings, self.runner, self.messages, self.settings.ae_title, self
        )
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        if accepted:
            self.apply_settings(dialog.settings())

    def open_behaviour(self) -> None:
        from mppsconsole.gui.behaviour_dialog import BehaviourDialog

        dialog = BehaviourDialog(self.ctx.scp.profile, self)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        if accepted:
            self.ctx.scp.set_profile(dialog.profile())
            self.messages.info(self.tr("Server behaviour applied"))

    def _on_profile_changed(self) -> None:
        profile = self.ctx.scp.profile
        count = len(profile.faults)
        self.faults_label.setText(self.tr("Faults: %n rule(s)", "", count))
        self.faults_label.setToolTip("\n".join(describe_profile(profile)))
        self.faults_label.setVisible(count > 0)

    def apply_settings(self, new: Settings) -> None:
        """Save, and restart the SCP when its address or policy changed (no app restart)."""
        old, self.settings = self.settings, new
        try:
            save_settings(new, self.ctx.config_path)
        except OSError as exc:
            self.messages.failure(
                self.tr("Save settings"),
                InputError(f"cannot write {self.ctx.config_path}: {exc.strerror or exc}"),
            )
        scp_fields = (
            "ae_title",
            "port",
            "bind_address",
            "allowed_calling_aets",
            "storage_dir",
            "hide_finished_worklist",
            "durability",
            "nodes",
            "tls",
            "access",
        )
        self._audit_settings(old, new)
        if any(getattr(old, f) != getattr(new, f) for f in scp_fields):
            self.ctx.scp.start(new)
        if old.language != new.language:
            self.messages.info(self.tr("Settings saved; the language changes at the next start"))
        else:
            self.messages.info(self.tr("Settings saved"))

    def _audit_settings(self, old: Settings, new: Settings) -> None:
        """A settings change is a Security Alert (software configuration, PS3.15 A.5.3.11);
        the record names the fields that changed, not their values."""
        changed = [
            f.name for f in dataclasses.fields(new) if getattr(old, f.name) != getattr(new, f.name)
        ]
        if not changed:
            return
        record = audit.manual(
            audit.SECURITY_ALERT, audit.UPDATE, "gui settings changed", detail=", ".join(changed)
        )
        self._write_audit(record)

    def _write_audit(self, record: audit.AuditRecord) -> None:
        """A window action's record, in a transaction of its own; a refused write is shown."""
        try:
            audit_store.write_now(self.ctx.db, record)
        except UserError as exc:
            self.messages.failure(self.tr("Audit trail"), exc)

    def _ui_state(self) -> QSettings:
        return QSettings(str(self.ctx.data_dir / "window.ini"), QSettings.Format.IniFormat)

    def _restore_layout(self) -> None:
        state = self._ui_state()
        geometry = state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        window = state.value("window")
        if window is not None:
            self.restoreState(window)
        header = state.value("steps_header")
        if header is not None:
            self.steps_panel.table.horizontalHeader().restoreState(header)
        splitter = state.value("splitter")
        if splitter is not None:
            self.split.restoreState(splitter)

    def save_layout(self) -> None:
        state = self._ui_state()
        state.setValue("geometry", self.saveGeometry())
        state.setValue("window", self.saveState())
        state.setValue("steps_header", self.steps_panel.table.horizontalHeader().saveState())
        state.setValue("splitter", self.split.saveState())
        state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        for task in self.runner.running:
            task.cancel.set()
        self.save_layout()
        self.bridge.close()
        super().closeEvent(event)
