"""Small dialogs that collect the parameters of an action."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.codes import (
    DEFAULT_DISCONTINUATION_REASON,
    DISCONTINUATION_REASONS,
    Code,
)
from mppsconsole.net.images import MODALITIES

MAX_IMAGES = 1000
TRANSFER_SYNTAXES = (("Explicit VR Little Endian", "explicit"), ("RLE Lossless", "rle"))


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def _syntax_combo(parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for label, key in TRANSFER_SYNTAXES:
        combo.addItem(label, key)
    return combo


@dataclasses.dataclass(frozen=True)
class ImageRequest:
    count: int
    modality: str
    transfer_syntax: str  # "explicit" or "rle"


class ImagesDialog(QDialog):
    """How many test images, of which modality, in which transfer syntax."""

    def __init__(
        self, title: str, modality: str, *, minimum: int, default: int, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.count = QSpinBox(self)
        self.count.setRange(minimum, MAX_IMAGES)
        self.count.setValue(default)
        self.modality = QComboBox(self)
        self.modality.addItems(list(MODALITIES))
        if modality in MODALITIES:
            self.modality.setCurrentText(modality)
        self.syntax = _syntax_combo(self)
        form = QFormLayout()
        form.addRow(self.tr("&Images:"), self.count)
        form.addRow(self.tr("&Modality:"), self.modality)
        form.addRow(self.tr("&Transfer syntax:"), self.syntax)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))

    def request(self) -> ImageRequest:
        return ImageRequest(
            self.count.value(), self.modality.currentText(), self.syntax.currentData()
        )


class DiscontinueDialog(QDialog):
    """The reason for discontinuing, from CID 9300, with its meaning."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Discontinue procedure step"))
        self.reasons = QListWidget(self)
        for code in DISCONTINUATION_REASONS:
            item = QListWidgetItem(f"{code.meaning}  ({code.value})", self.reasons)
            item.setData(256, code)
            if code.value == DEFAULT_DISCONTINUATION_REASON:
                self.reasons.setCurrentItem(item)
        self.reasons.itemDoubleClicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reasons)
        layout.addWidget(_buttons(self))
        self.resize(420, 420)

    def reason(self) -> Code:
        item = self.reasons.currentItem()
        code = item.data(256) if item else None
        return code if isinstance(code, Code) else DISCONTINUATION_REASONS[0]


@dataclasses.dataclass(frozen=True)
class UnscheduledPatient:
    name: str
    id: str
    birth_date: str
    sex: str
    modality: str


class UnscheduledDialog(QDialog):
    """A patient without an order (RAD-6 unscheduled case)."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Start unscheduled procedure step"))
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("Family^Given")
        self.patient_id = QLineEdit(self)
        self.birth_date = QLineEdit(self)
        self.birth_date.setPlaceholderText("YYYYMMDD")
        self.sex = QComboBox(self)
        self.sex.addItems(["", "F", "M", "O"])
        self.modality = QComboBox(self)
        self.modality.addItems(list(MODALITIES))
        form = QFormLayout()
        form.addRow(self.tr("Patient &name:"), self.name)
        form.addRow(self.tr("Patient &ID:"), self.patient_id)
        form.addRow(self.tr("&Birth date:"), self.birth_date)
        form.addRow(self.tr("&Sex:"), self.sex)
        form.addRow(self.tr("&Modality:"), self.modality)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))

    def patient(self) -> UnscheduledPatient:
        return UnscheduledPatient(
            self.name.text().strip(),
            self.patient_id.text().strip(),
            self.birth_date.text().strip(),
            self.sex.currentText(),
            self.modality.currentText(),
        )
