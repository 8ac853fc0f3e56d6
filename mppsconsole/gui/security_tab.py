"""The Settings dialog's Security tab: TLS files and a view of the access list.

The access list is shown, not edited: entries bind AE titles to host networks
and services, which reads and reviews better as the ``[[access]]`` tables of
the settings file than as a grid of cells; the tab says where to edit it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mppsconsole.core.access import AccessRule
from mppsconsole.core.settings import Settings, TlsSettings
from mppsconsole.net.tls import check_files


class SecurityTab(QWidget):
    """TLS certificate, key and CA with file pickers; the access list, read-only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tls_box = QGroupBox(self.tr("DICOM TLS"), self)
        self.cert = QLineEdit(tls_box)
        self.key = QLineEdit(tls_box)
        self.ca = QLineEdit(tls_box)
        self.cert.setPlaceholderText(self.tr("none: the SCP accepts plain TCP"))
        self.ca.setPlaceholderText(self.tr("none: the system's trusted CAs"))
        self.require_client_cert = QCheckBox(
            self.tr("&Require a client certificate (mutual authentication)"), tls_box
        )
        self.check_hostname = QCheckBox(
            self.tr("Servers' certificates must name the &host we call"), tls_box
        )
        form = QFormLayout(tls_box)
        for label, field, title in (
            (self.tr("&Certificate:"), self.cert, self.tr("Certificate (PEM)")),
            (self.tr("Private &key:"), self.key, self.tr("Private key (PEM)")),
            (self.tr("C&A certificate:"), self.ca, self.tr("CA certificate (PEM)")),
        ):
            row = QHBoxLayout()
            row.addWidget(field, 1)
            browse = QPushButton(self.tr("Browse…"), tls_box)
            browse.clicked.connect(lambda _=False, f=field, t=title: self._browse(f, t))
            row.addWidget(browse)
            form.addRow(label, row)
        form.addRow("", self.require_client_cert)
        form.addRow("", self.check_hostname)
        note = QLabel(
            self.tr(
                "With a certificate and key the SCP accepts TLS only (TLS 1.2 or later), on "
                "its port; 2762 is DICOM's registered TLS port. `mppsconsole tls init DIR` "
                "makes a lab CA and certificates."
            ),
            tls_box,
        )
        note.setWordWrap(True)
        form.addRow(note)

        access_box = QGroupBox(self.tr("Access list"), self)
        self.access = QTableWidget(0, 3, access_box)
        self.access.setHorizontalHeaderLabels(
            [self.tr("Calling AE title"), self.tr("Hosts"), self.tr("Services")]
        )
        self.access.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.access.verticalHeader().hide()
        self.access.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.access_note = QLabel(access_box)
        self.access_note.setWordWrap(True)
        box = QVBoxLayout(access_box)
        box.addWidget(self.access)
        box.addWidget(self.access_note)

        layout = QVBoxLayout(self)
        layout.addWidget(tls_box)
        layout.addWidget(access_box, 1)

    def _browse(self, field: QLineEdit, title: str) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, title, field.text().strip(), self.tr("PEM files (*.pem *.crt *.key);;All (*)")
        )
        if path:
            field.setText(path)

    def load(self, settings: Settings) -> None:
        tls = settings.tls or TlsSettings()
        self.cert.setText(tls.cert)
        self.key.setText(tls.key)
        self.ca.setText(tls.ca)
        self.require_client_cert.setChecked(tls.require_client_cert)
        self.check_hostname.setChecked(tls.check_hostname)
        rules = [*settings.access, *(AccessRule(ae) for ae in settings.allowed_calling_aets)]
        self.access.setRowCount(len(rules))
        anywhere, everything = self.tr("any"), self.tr("all")
        for row, rule in enumerate(rules):
            cells = (
                rule.ae_title,
                ", ".join(rule.hosts) or anywhere,
                ", ".join(rule.services) or everything,
            )
            for column, text in enumerate(cells):
                self.access.setItem(row, column, QTableWidgetItem(text))
        if rules:
            note = self.tr(
                "Only these calling AE titles may associate. Edit the [[access]] entries in "
                "the settings file (the allowed calling AE titles of the Local node tab "
                "are listed here too, with every service)."
            )
        else:
            note = self.tr(
                "Open: any calling AE title from any host may use every service (the called "
                "AE title must still match). Add [[access]] entries to the settings file, "
                "or allowed calling AE titles on the Local node tab, to restrict it."
            )
        self.access_note.setText(note)

    def tls_settings(self) -> TlsSettings | None:
        """The TLS fields as a ``[tls]`` table; None when they are all left at their defaults."""
        files = TlsSettings(
            cert=self.cert.text().strip(),
            key=self.key.text().strip(),
            ca=self.ca.text().strip(),
            require_client_cert=self.require_client_cert.isChecked(),
            check_hostname=self.check_hostname.isChecked(),
        )
        return None if files == TlsSettings() else files


def check_tls(settings: Settings) -> None:
    """ConfigError when a certificate, key or CA file cannot be used (before it is saved)."""
    if settings.tls is not None:
        check_files(settings.tls)
