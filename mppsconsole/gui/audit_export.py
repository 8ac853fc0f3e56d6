"""File → Export audit trail…: where to write it, and whether to de-identify it.

The export runs on a worker (TaskRunner): a long trail must not freeze the window.
De-identification is on by default, because an exported trail usually leaves the
department (to an auditor, a vendor, a bug report).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.errors import UserError
from mppsconsole.store.audit import export
from mppsconsole.store.db import Database


def export_audit_file(db: Database, path: Path, deidentify: bool) -> int:
    """Write the whole trail to ``path`` as JSON lines; the number of records written."""
    try:
        with path.open("w", encoding="utf-8") as out:
            return export(db, out, deidentify=deidentify)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


class AuditExportDialog(QDialog):
    """A file name (typed or chosen) and the de-identify choice."""

    def __init__(self, start_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export audit trail"))
        self.path_edit = QLineEdit(str(start_dir / "mppsconsole-audit.jsonl"), self)
        browse = QPushButton(self.tr("&Browse…"), self)
        browse.clicked.connect(self._browse)
        self.deidentify = QCheckBox(
            self.tr("&De-identify (replace patient names, IDs and accession numbers)"), self
        )
        self.deidentify.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("JSON lines file:"), self))
        layout.addLayout(row)
        layout.addWidget(self.deidentify)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export audit trail"),
            self.path_edit.text(),
            self.tr("JSON lines (*.jsonl);;All files (*)"),
        )
        if path:
            self.path_edit.setText(path)

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None
