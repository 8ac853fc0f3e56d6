"""The Settings dialog: the same settings as the TOML file, checked by the same rules.

OK builds :class:`Settings` from the fields and reads them back through
``parse_settings(dump_settings(...))``, so the dialog can never save what the file
loader would refuse at the next start. A refusal stays in the dialog as a red line
(pointing at the tab and field), because the user is in the middle of editing.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.errors import ConfigError, InputError, UserError
from mppsconsole.core.settings import (
    DEFAULT_CALLED_AE,
    DESTINATIONS,
    SELF_NODE,
    Node,
    Settings,
    dump_settings,
    parse_settings,
)
from mppsconsole.gui.messages import UserMessages
from mppsconsole.gui.security_tab import SecurityTab, check_tls
from mppsconsole.gui.tasks import Task, TaskRunner
from mppsconsole.net.echo_scu import echo

#: TaskRunner label of an echo started from this dialog (the main window has its own).
ECHO_LABEL = "Settings echo"
NAME, AE_TITLE, HOST, PORT = range(4)
_NODE_KEYS = {"name": NAME, "ae_title": AE_TITLE, "host": HOST, "port": PORT}
#: Role on a node's name cell: its TLS flag (not shown, kept) and the name it had last.
_TLS_ROLE = Qt.ItemDataRole.UserRole + 1
_NAME_ROLE = Qt.ItemDataRole.UserRole + 2
_TABS = {"local": 0, "modality": 1, "nodes": 2, "destinations": 3}
# "settings, line 3: local.ae_title: ..." -> "local.ae_title: ..."; the line is that of a
# file the user never sees.
_FILE_PREFIX = re.compile(r"^settings(?:, line \d+)?: ")
_WHERE = re.compile(r"^(local|modality|destinations)\.(\w+)|^nodes\[(\d+)\]\.(\w+)")


class SettingsDialog(QDialog):
    """Local node, modality identity, remote nodes (with Echo) and destinations."""

    def __init__(
        self,
        settings: Settings,
        runner: TaskRunner,
        messages: UserMessages,
        local_ae_title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self._runner = runner
        self._messages = messages
        self._local_ae_title = local_ae_title
        self._result = settings
        self._original = settings  # [tls] and [[access]] pass through the dialog
        self._echo_tasks: list[Task] = []
        self._filling = False

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._make_local_tab(), self.tr("&Local node"))
        self.tabs.addTab(self._make_modality_tab(), self.tr("&Modality"))
        self.tabs.addTab(self._make_nodes_tab(), self.tr("&Nodes"))
        self.tabs.addTab(self._make_destinations_tab(), self.tr("&Destinations"))
        self.security = SecurityTab(self)
        self.tabs.addTab(self.security, self.tr("Sec&urity"))
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #c8452f")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._load(settings)
        runner.succeeded.connect(self._on_task_succeeded)
        runner.failed.connect(self._on_task_failed)
        runner.cancelled.connect(self._on_task_cancelled)
        self.resize(560, 480)

    # -- construction ----------------------------------------------------------

    def _make_local_tab(self) -> QWidget:
        page = QWidget(self)
        self.ae_title = QLineEdit(page)
        self.ae_title.setToolTip(self.tr("Our AE title: peers call it, and we call them with it"))
        self.port = QSpinBox(page)
        self.port.setRange(0, 65535)
        self.port.setToolTip(self.tr("TCP port of our SCP (0: any free port)"))
        self.bind_address = QLineEdit(page)
        self.bind_address.setToolTip(self.tr("0.0.0.0: every network interface"))
        self.allowed = QPlainTextEdit(page)
        self.allowed.setTabChangesFocus(True)  # Tab moves on, as in every other field
        self.allowed.setPlaceholderText(self.tr("One AE title per line; empty: anyone"))
        self.allowed.setMaximumHeight(90)
        self.storage_dir = QLineEdit(page)
        self.storage_dir.setPlaceholderText(self.tr("default: the images folder of the data"))
        self.browse = QPushButton(self.tr("Br&owse…"), page)
        self.browse.clicked.connect(self._browse_storage)
        self.hide_finished = QCheckBox(self.tr("&Hide finished worklist items"), page)
        self.hide_finished.setToolTip(
            self.tr("Completed and discontinued orders are neither shown nor served")
        )
        self.durability = QComboBox(page)
        self.durability.addItem(self.tr("Full (survives a power loss)"), "full")
        self.durability.addItem(self.tr("Normal (faster; survives a crash)"), "normal")
        self.language = QComboBox(page)
        # Language names in their own language: the reader may not read the current one.
        for text, code in ((self.tr("System"), ""), ("English", "en"), ("简体中文", "zh_CN")):
            self.language.addItem(text, code)
        storage = QHBoxLayout()
        storage.addWidget(self.storage_dir, 1)
        storage.addWidget(self.browse)
        form = QFormLayout(page)
        form.addRow(self.tr("&AE title:"), self.ae_title)
        form.addRow(self.tr("&Port:"), self.port)
        form.addRow(self.tr("&Bind address:"), self.bind_address)
        form.addRow(self.tr("Allowed &calling AE titles:"), self.allowed)
        storage_label = QLabel(self.tr("&Storage folder:"), page)
        storage_label.setBuddy(self.storage_dir)
        form.addRow(storage_label, storage)
        form.addRow("", self.hide_finished)
        form.addRow(self.tr("Durabilit&y:"), self.durability)
        form.addRow(self.tr("Lan&guage:"), self.language)
        self._local_fields: dict[str, QWidget] = {
            "ae_title": self.ae_title,
            "port": self.port,
            "bind_address": self.bind_address,
            "allowed_calling_aets": self.allowed,
            "storage_dir": self.storage_dir,
            "hide_finished_worklist": self.hide_finished,
            "durability": self.durability,
            "language": self.language,
        }
        return page

    def _make_modality_tab(self) -> QWidget:
        page = QWidget(self)
        self.station_name = QLineEdit(page)
        self.station_name.setMaxLength(16)  # Station Name is SH
        self.location = QLineEdit(page)
        self.operator = QLineEdit(page)
        self.operator.setPlaceholderText("Family^Given")
        self.uid_root = QLineEdit(page)
        self.uid_root.setPlaceholderText(self.tr("empty: 2.25 (UUID-derived UIDs)"))
        form = QFormLayout(page)
        form.addRow(self.tr("&Station name:"), self.station_name)
        form.addRow(self.tr("L&ocation:"), self.location)
        form.addRow(self.tr("O&perator:"), self.operator)
        form.addRow(self.tr("&UID root:"), self.uid_root)
        self._modality_fields: dict[str, QWidget] = {
            "station_name": self.station_name,
            "location": self.location,
            "operator": self.operator,
            "uid_root": self.uid_root,
        }
        return page

    def _make_nodes_tab(self) -> QWidget:
        page = QWidget(self)
        self.nodes = QTableWidget(0, 4, page)
        self.nodes.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("AE title"), self.tr("Host"), self.tr("Port")]
        )
        self.nodes.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.nodes.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.nodes.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.nodes.verticalHeader().hide()
        self.nodes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.add_node = QPushButton(self.tr("&Add"), page)
        self.remove_node = QPushButton(self.tr("&Remove"), page)
        self.echo_node = QPushButton(self.tr("&Echo"), page)
        self.echo_node.setToolTip(self.tr("Verify the selected node with C-ECHO"))
        self.echo_result = QLabel(page)
        buttons = QHBoxLayout()
        for button in (self.add_node, self.remove_node, self.echo_node):
            buttons.addWidget(button)
        buttons.addWidget(self.echo_result, 1)
        layout = QVBoxLayout(page)
        layout.addWidget(self.nodes, 1)
        layout.addLayout(buttons)
        self.add_node.clicked.connect(self._add_node)
        self.remove_node.clicked.connect(self._remove_nodes)
        self.echo_node.clicked.connect(self._echo_selected)
        self.nodes.itemChanged.connect(self._on_node_changed)
        self.nodes.itemSelectionChanged.connect(self._update_buttons)
        return page

    def _make_destinations_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.destinations: dict[str, QComboBox] = {}
        labels = {
            "worklist": self.tr("&Worklist query:"),
            "mpps": self.tr("M&PPS:"),
            "storage": self.tr("&Storage:"),
            "commitment": self.tr("Storage &commitment:"),
        }
        for kind in DESTINATIONS:
            combo = QComboBox(page)
            self.destinations[kind] = combo
            form.addRow(labels[kind], combo)
        note = QLabel(self.tr("“self” is this console's own SCP."), page)
        note.setWordWrap(True)
        form.addRow(note)
        return page

    # -- loading -----------------------------------------------------------------

    def _load(self, settings: Settings) -> None:
        self.ae_title.setText(settings.ae_title)
        self.port.setValue(settings.port)
        self.bind_address.setText(settings.bind_address)
        self.allowed.setPlainText("\n".join(settings.allowed_calling_aets))
        self.storage_dir.setText(settings.storage_dir)
        self.hide_finished.setChecked(settings.hide_finished_worklist)
        self.durability.setCurrentIndex(max(0, self.durability.findData(settings.durability)))
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.station_name.setText(settings.station_name)
        self.location.setText(settings.location)
        self.operator.setText(settings.operator)
        self.uid_root.setText(settings.uid_root)
        self._filling = True
        try:
            for node in settings.nodes:
                self._append_node(node)
        finally:
            self._filling = False
        for kind in DESTINATIONS:
            self._refresh_destination(kind, getattr(settings, f"{kind}_destination"))
        self._update_buttons()
        self.security.load(settings)

    def _append_node(self, node: Node) -> int:
        row = self.nodes.rowCount()
        self.nodes.insertRow(row)
        name = QTableWidgetItem(node.name)
        name.setData(_TLS_ROLE, node.tls)
        name.setData(_NAME_ROLE, node.name)
        self.nodes.setItem(row, NAME, name)
        for column, value in ((AE_TITLE, node.ae_title), (HOST, node.host), (PORT, node.port)):
            self.nodes.setItem(row, column, QTableWidgetItem(str(value)))
        return row

    # -- nodes -------------------------------------------------------------------

    def _node_names(self) -> list[str]:
        names = []
        for row in range(self.nodes.rowCount()):
            item = self.nodes.item(row, NAME)
            name = item.text().strip() if item is not None else ""
            if name and name != SELF_NODE and name not in names:
                names.append(name)
        return names

    def _refresh_destination(self, kind: str, wanted: str | None = None) -> None:
        combo = self.destinations[kind]
        chosen = wanted if wanted is not None else combo.currentData()
        combo.clear()
        combo.addItem(self.tr("self (this console)"), SELF_NODE)
        for name in self._node_names():
            combo.addItem(name, name)
        combo.setCurrentIndex(max(0, combo.findData(chosen)))

    def _refresh_destinations(self) -> None:
        for kind in DESTINATIONS:
            self._refresh_destination(kind)

    def _on_node_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != NAME:
            return
        old, new = item.data(_NAME_ROLE), item.text().strip()
        self._filling = True  # setData emits itemChanged again
        try:
            item.setData(_NAME_ROLE, new)
        finally:
            self._filling = False
        for kind in DESTINATIONS:
            # A destination that named the node follows its new name.
            follow = bool(old) and self.destinations[kind].currentData() == old
            self._refresh_destination(kind, new if follow else None)

    def _add_node(self) -> None:
        taken = {self._cell(r, NAME) for r in range(self.nodes.rowCount())}
        number = 1
        while f"NODE{number}" in taken:
            number += 1
        self._filling = True
        try:
            row = self._append_node(Node(f"NODE{number}", DEFAULT_CALLED_AE, "127.0.0.1", 104))
        finally:
            self._filling = False
        self._refresh_destinations()
        self.nodes.setCurrentCell(row, NAME)
        self.nodes.setFocus(Qt.FocusReason.OtherFocusReason)
        name = self.nodes.item(row, NAME)
        if name is not None:
            self.nodes.editItem(name)

    def _remove_nodes(self) -> None:
        rows = sorted({i.row() for i in self.nodes.selectionModel().selectedRows()}, reverse=True)
        for row in rows:
            self.nodes.removeRow(row)
        self._refresh_destinations()
        self._update_buttons()

    def _cell(self, row: int, column: int) -> str:
        item = self.nodes.item(row, column)
        return item.text().strip() if item is not None else ""

    def _node_at(self, row: int) -> Node:
        """The node of one table row; ConfigError in the file's words when it is unusable."""
        where = f"nodes[{row + 1}]."
        port_text = self._cell(row, PORT)
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"{where}port: expected a number, got {port_text!r}") from None
        name_item = self.nodes.item(row, NAME)
        tls = bool(name_item.data(_TLS_ROLE)) if name_item is not None else False
        node = Node(self._cell(row, NAME), self._cell(row, AE_TITLE), self._cell(row, HOST), port)
        if not node.host:
            raise ConfigError(f"{where}host: every node needs a host")
        # The same checks as the file, on this one node (reported as this row).
        try:
            checked = parse_settings(dump_settings(Settings(nodes=(node,))), Path("settings"))
        except ConfigError as exc:
            message = _FILE_PREFIX.sub("", str(exc)).replace("nodes[1].", where, 1)
            raise ConfigError(message) from None
        return Node(node.name, checked.nodes[0].ae_title, node.host, checked.nodes[0].port, tls)

    def _update_buttons(self) -> None:
        rows = {i.row() for i in self.nodes.selectionModel().selectedRows()}
        self.remove_node.setEnabled(bool(rows))
        self.echo_node.setEnabled(len(rows) == 1)

    # -- echo ----------------------------------------------------------------------

    def _echo_selected(self) -> None:
        rows = {i.row() for i in self.nodes.selectionModel().selectedRows()}
        if len(rows) != 1:
            return
        (row,) = rows
        what = self.tr("Echo")
        try:
            node = self._node_at(row)
        except ConfigError as exc:
            # Same wording as the file, but for a row of the table: a mistake to correct.
            self._messages.failure(what, InputError(_FILE_PREFIX.sub("", str(exc))))
            return
        local_ae_title = self._local_ae_title
        self.echo_result.setText(self.tr("Echoing {0}…").format(node.name))
        task = self._runner.run(
            ECHO_LABEL,
            lambda task: (node, echo(local_ae_title, node)),
            self.tr("Echo {0}").format(node.name),
        )
        self._echo_tasks.append(task)

    def _take(self, task: Task) -> bool:
        """True (and forgotten) when ``task`` is one of this dialog's echoes."""
        for index, mine in enumerate(self._echo_tasks):
            if mine is task:
                del self._echo_tasks[index]
                return True
        return False

    def _on_task_succeeded(self, task: Task, result: object) -> None:
        if not self._take(task) or not isinstance(result, tuple):
            return
        node, seconds = result
        text = self.tr("Echo {0}: success ({1:.0f} ms)").format(node.name, seconds * 1000)
        self.echo_result.setText(text)
        self._messages.info(text)

    def _on_task_failed(self, task: Task, error: BaseException) -> None:
        if not self._take(task):
            return
        self.echo_result.setText(self.tr("{0} failed").format(task.what))
        self._messages.failure(task.what, error)

    def _on_task_cancelled(self, task: Task) -> None:
        if self._take(task):
            self.echo_result.setText(self.tr("{0} cancelled").format(task.what))

    # -- storage folder ------------------------------------------------------------

    def _browse_storage(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Storage folder"), self.storage_dir.text().strip()
        )
        if folder:
            self.storage_dir.setText(folder)

    # -- result ----------------------------------------------------------------------

    def _collect(self) -> Settings:
        """Settings from the fields, before the file's rules are applied."""
        nodes = []
        seen: set[str] = set()
        for row in range(self.nodes.rowCount()):
            node = self._node_at(row)
            if node.name in seen:
                raise ConfigError(f"nodes[{row + 1}].name: {node.name!r} is used twice")
            seen.add(node.name)
            nodes.append(node)
        allowed = tuple(
            line.strip() for line in self.allowed.toPlainText().splitlines() if line.strip()
        )
        destinations = {
            f"{kind}_destination": str(self.destinations[kind].currentData() or SELF_NODE)
            for kind in DESTINATIONS
        }
        return Settings(
            ae_title=self.ae_title.text().strip(),
            port=self.port.value(),
            bind_address=self.bind_address.text().strip(),
            allowed_calling_aets=allowed,
            hide_finished_worklist=self.hide_finished.isChecked(),
            durability=str(self.durability.currentData()),
            nodes=tuple(nodes),
            station_name=self.station_name.text().strip(),
            location=self.location.text().strip(),
            operator=self.operator.text().strip(),
            uid_root=self.uid_root.text().strip(),
            language=str(self.language.currentData()),
            storage_dir=self.storage_dir.text().strip(),
            limits=self._result.limits,  # edited in the file only; kept as loaded
            tls=self.security.tls_settings(),
            access=self._original.access,
            **destinations,
        )

    def accept(self) -> None:
        try:
            settings = parse_settings(dump_settings(self._collect()), Path("settings"))
            check_tls(settings)
        except UserError as exc:
            self._show_error(_FILE_PREFIX.sub("", str(exc)))
            return
        self._result = settings
        self.error.hide()
        super().accept()

    def _show_error(self, message: str) -> None:
        """Say what is wrong and take the user to it."""
        self.error.setText(message)
        self.error.show()
        match = _WHERE.match(message)
        if match is None:
            return
        table, key, node_number, node_key = match.groups()
        if node_number is not None:
            self.tabs.setCurrentIndex(_TABS["nodes"])
            self.nodes.setCurrentCell(int(node_number) - 1, _NODE_KEYS.get(node_key, NAME))
            self.nodes.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.tabs.setCurrentIndex(_TABS[table])
        fields = {**self._local_fields, **self._modality_fields}
        widget = self.destinations.get(key) if table == "destinations" else fields.get(key)
        if widget is not None:
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def settings(self) -> Settings:
        """The edited settings (only meaningful after the dialog was accepted)."""
        return self._result
