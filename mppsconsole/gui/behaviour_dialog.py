"""The "Server behaviour" dialog: strict or lenient, and the fault rules, for the running SCP.

An integrator switches the department node into a misbehaving one and back
without restarting it: the dialog edits a :class:`Profile`; the window hands
it to the SCP controller, which applies it from the next message on.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.errors import ConfigError
from mppsconsole.core.profile import (
    ACTIONS,
    LENIENT,
    SERVICES,
    STRICT,
    FaultRule,
    Profile,
    describe_rule,
    load_profile,
    simple_rule,
)

SERVICE, CALLING_AE, ACTION, VALUE = range(4)
# Role of the rule a row was loaded from: kept as is (host, count, ...) while unedited.
RULE_ROLE = Qt.ItemDataRole.UserRole + 1


def _columns(rule: FaultRule) -> tuple[str, str, str, str]:
    return rule.service, rule.calling_ae, rule.action, rule.value_text()


class BehaviourDialog(QDialog):
    """Pick strict/lenient, load a profile file, edit simple fault rules."""

    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Server behaviour"))
        self.resize(720, 420)
        self._source = profile.source
        self._result = profile

        self.mode = QComboBox(self)
        self.mode.addItem(self.tr("Lenient: accept what real modalities send"), LENIENT)
        self.mode.addItem(self.tr("Strict: PS3.4 as written"), STRICT)
        self.source_label = QLabel(self)
        load = QPushButton(self.tr("&Load profile file…"), self)
        load.clicked.connect(self._choose_file)
        form = QFormLayout()
        form.addRow(self.tr("&Mode:"), self.mode)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_label, 1)
        source_row.addWidget(load)
        form.addRow(self.tr("Profile file:"), source_row)

        self.rules = QTableWidget(0, 4, self)
        self.rules.setHorizontalHeaderLabels(
            [self.tr("Service"), self.tr("Calling AE"), self.tr("Action"), self.tr("Value")]
        )
        self.rules.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.rules.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rules.setToolTip(
            self.tr(
                "Value: status as hex, e.g. 0111 or 0110/A710 (with Error ID); delay in ms; "
                "reject as result/source/reason, e.g. 1/1/3; abort before or after"
            )
        )
        self.add_rule = QPushButton(self.tr("&Add rule"), self)
        self.add_rule.clicked.connect(lambda: self._add_row(None))
        self.remove_rule = QPushButton(self.tr("&Remove rule"), self)
        self.remove_rule.clicked.connect(self._remove_selected)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.add_rule)
        buttons_row.addWidget(self.remove_rule)
        buttons_row.addStretch(1)

        self.error = QLabel(self)
        self.error.setStyleSheet("color: #c8452f")
        self.error.setWordWrap(True)
        self.error.hide()
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Fault rules (applied to the running SCP):"), self))
        layout.addWidget(self.rules, 1)
        layout.addLayout(buttons_row)
        layout.addWidget(self.error)
        layout.addWidget(box)
        self._show(profile)

    # -- filling -----------------------------------------------------------------

    def _show(self, profile: Profile) -> None:
        self._source = profile.source
        self.mode.setCurrentIndex(max(0, self.mode.findData(profile.mode)))
        self.source_label.setText(profile.source or self.tr("(none)"))
        self.rules.setRowCount(0)
        for rule in profile.faults:
            self._add_row(rule)

    def _add_row(self, rule: FaultRule | None) -> None:
        row = self.rules.rowCount()
        self.rules.insertRow(row)
        service = QComboBox(self.rules)
        service.addItems(list(SERVICES))
        action = QComboBox(self.rules)
        action.addItems(list(ACTIONS))
        columns = _columns(rule) if rule else ("mpps-create", "", "status", "0110")
        service.setCurrentText(columns[SERVICE])
        action.setCurrentText(columns[ACTION])
        self.rules.setCellWidget(row, SERVICE, service)
        self.rules.setCellWidget(row, ACTION, action)
        ae = QTableWidgetItem(columns[CALLING_AE])
        ae.setData(RULE_ROLE, rule)
        value = QTableWidgetItem(columns[VALUE])
        if rule is not None:  # host, count, probability: kept, shown here
            ae.setToolTip(describe_rule(rule))
            value.setToolTip(describe_rule(rule))
        self.rules.setItem(row, CALLING_AE, ae)
        self.rules.setItem(row, VALUE, value)
        self.rules.setCurrentCell(row, CALLING_AE)

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.rules.selectedIndexes()}, reverse=True):
            self.rules.removeRow(row)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Load profile file"), "", self.tr("Profiles (*.toml);;All files (*)")
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Show the profile in ``path``; False (and the error shown) when it cannot be used."""
        try:
            profile = load_profile(path)
        except ConfigError as exc:
            self._show_error(str(exc))
            return False
        self.error.hide()
        self._show(profile)
        return True

    # -- result --------------------------------------------------------------------

    def _cell(self, row: int, column: int) -> str:
        widget = self.rules.cellWidget(row, column)
        if isinstance(widget, QComboBox):
            return widget.currentText()
        item = self.rules.item(row, column)
        return item.text() if item is not None else ""

    def _rule_at(self, row: int) -> FaultRule:
        columns = tuple(self._cell(row, c) for c in range(4))
        item = self.rules.item(row, CALLING_AE)
        loaded = item.data(RULE_ROLE) if item is not None else None
        if isinstance(loaded, FaultRule) and _columns(loaded) == columns:
            return loaded  # unedited: keeps what the table does not show
        return simple_rule(*columns)

    def accept(self) -> None:
        rules = []
        for row in range(self.rules.rowCount()):
            try:
                rules.append(self._rule_at(row))
            except ValueError as exc:
                self._show_error(self.tr("Rule {0}: {1}").format(row + 1, exc))
                self.rules.setCurrentCell(row, VALUE)
                return
        self._result = Profile(
            mode=str(self.mode.currentData()), faults=tuple(rules), source=self._source
        )
        super().accept()

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def profile(self) -> Profile:
        """The edited profile (meaningful after the dialog was accepted)."""
        return self._result
