"""The validation badge on a step row and the findings list of the detail pane, fed by a
real embedded SCP receiving steps over loopback associations."""

from __future__ import annotations

from pydicom.uid import generate_uid
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QIcon

from mppsconsole.core.step import RECEIVED
from mppsconsole.core.validation import APPENDIX_A, ERROR
from mppsconsole.core.worklist import build_item
from mppsconsole.gui.findings_view import SEVERITY_COLOURS, TOOLTIP_FINDINGS
from mppsconsole.gui.main_window import MainWindow
from mppsconsole.gui.step_model import FINDINGS_COLUMN
from mppsconsole.store import findings, worklist
from tests.gui.test_main_window import WAIT_MS, _n_create, _send, console  # noqa: F401
from tests.network.conftest import create_dataset, scheduled_item

FAULTY = "1.2.826.0.1.3680043.10.1.30"


def _order_for_the_faulty_step(window: MainWindow) -> None:
    """The order _n_create refers to (study + accession), for another patient."""
    item = build_item(
        {
            "patient_name": "Wang^XiaoDong=王^小东",
            "patient_id": "PW1",
            "modality": "MR",
            "date": "20261122",
            "accession_number": "ACC-GUI",
            "study_instance_uid": "1.2.826.0.1.3680043.10.1.1",
        }
    )
    with window.ctx.db.transaction() as conn:
        worklist.add_many(conn, [item])


def _badge(window: MainWindow, uid: str, role: Qt.ItemDataRole) -> object:
    row = window.model.row_of(uid, RECEIVED)
    assert row is not None
    return window.model.index(row, FINDINGS_COLUMN).data(role)


def test_faulty_step_shows_a_badge_and_its_findings(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _order_for_the_faulty_step(console)
    port = console.ctx.scp.address[1]  # type: ignore[index]
    _n_create(FAULTY, port)
    clean = generate_uid()
    clean_ds = create_dataset(scheduled=[scheduled_item(generate_uid())])
    _send(port, lambda a: a.send_n_create(clean_ds, ModalityPerformedProcedureStep, clean))
    qtbot.waitUntil(lambda: console.model.rowCount() == 2, timeout=WAIT_MS)

    with console.ctx.db.reading() as conn:
        stored = findings.for_step(conn, FAULTY, RECEIVED)
    assert (ERROR, "PatientName", APPENDIX_A) in {(f.severity, f.attribute, f.rule) for f in stored}
    assert _badge(console, FAULTY, Qt.ItemDataRole.DisplayRole) == str(len(stored))
    icon = _badge(console, FAULTY, Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon) and not icon.isNull()
    brush = _badge(console, FAULTY, Qt.ItemDataRole.ForegroundRole)
    assert isinstance(brush, QBrush) and brush.color() == SEVERITY_COLOURS[ERROR]
    tooltip = _badge(console, FAULTY, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tooltip, str)
    first = [f"{f.severity}: {f.attribute}: {f.message}" for f in stored[:TOOLTIP_FINDINGS]]
    assert tooltip.splitlines() == [*first, f"… and {len(stored) - TOOLTIP_FINDINGS} more"]
    for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole):
        assert not _badge(console, clean, role)

    assert console.steps_panel.select(FAULTY)
    table = console.detail.findings
    assert table.rowCount() == len(stored)
    shown = [
        tuple(table.item(row, column).text() for column in range(4))
        for row in range(table.rowCount())
    ]
    assert shown == [(f.severity, f.attribute, f.message, f.rule) for f in stored]
    tab = console.detail.tabs.indexOf(table)
    assert console.detail.tabs.tabText(tab) == f"Findings ({len(stored)})"

    assert console.steps_panel.select(clean)
    assert table.rowCount() == 0
    assert console.detail.tabs.tabText(tab) == "Findings (0)"
