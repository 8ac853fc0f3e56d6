"""Validation findings in the window: the badge of a step row and the detail pane's list.

The badge is an icon plus the number of findings, coloured by the worst
severity, so a faulty step stands out in a long table; the list names the
attribute, the problem and the rule (PS3.4 table or IHE section) behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle, QTableWidget, QTableWidgetItem, QWidget

from mppsconsole.core.validation import ERROR, INFO, SEVERITIES, WARNING, Finding

SEVERITY_COLOURS = {ERROR: QColor("#c8452f"), WARNING: QColor("#b8860b"), INFO: QColor("#1f77d0")}
_ICONS = {
    ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
_LABELS = {
    ERROR: QT_TRANSLATE_NOOP("Findings", "error"),
    WARNING: QT_TRANSLATE_NOOP("Findings", "warning"),
    INFO: QT_TRANSLATE_NOOP("Findings", "info"),
}
# How many findings a row's tooltip lists before "and N more".
TOOLTIP_FINDINGS = 5


def severity_icon(severity: str) -> QIcon:
    return QApplication.style().standardIcon(_ICONS[severity])


def severity_label(severity: str) -> str:
    return QCoreApplication.translate("Findings", str(_LABELS[severity]))


def severity_rank(severity: str) -> int:
    """0 for no findings, higher for worse: sorts the badge column by gravity."""
    return len(SEVERITIES) - SEVERITIES.index(severity) if severity in SEVERITIES else 0


def badge_tooltip(found: Sequence[Finding]) -> str:
    """The first findings of a step, one per line, worst first."""
    lines = [
        f"{severity_label(f.severity)}: {f.attribute}: {f.message}"
        for f in found[:TOOLTIP_FINDINGS]
    ]
    if len(found) > TOOLTIP_FINDINGS:
        more = QCoreApplication.translate("Findings", "… and {0} more")
        lines.append(more.format(len(found) - TOOLTIP_FINDINGS))
    return "\n".join(lines)


class FindingsTable(QTableWidget):
    """The findings of the selected step: severity, attribute, message, rule."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(
            [
                QCoreApplication.translate("Findings", "Severity"),
                QCoreApplication.translate("Findings", "Attribute"),
                QCoreApplication.translate("Findings", "Finding"),
                QCoreApplication.translate("Findings", "Rule"),
            ]
        )

    def show_findings(self, found: Sequence[Finding]) -> None:
        self.setRowCount(len(found))
        for row, finding in enumerate(found):
            severity = QTableWidgetItem(
                severity_icon(finding.severity), severity_label(finding.severity)
            )
            severity.setForeground(SEVERITY_COLOURS[finding.severity])
            self.setItem(row, 0, severity)
            for column, text in enumerate((finding.attribute, finding.message, finding.rule), 1):
                self.setItem(row, column, QTableWidgetItem(text))
