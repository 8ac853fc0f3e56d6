"""The console window over a real embedded SCP on an ephemeral loopback port."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]
from PySide6.QtWidgets import QMessageBox

from mppsconsole.core.codes import discontinuation_reason
from mppsconsole.core.events import EventHub, Traffic
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS
from mppsconsole.core.settings import Settings
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.core.worklist import build_item
from mppsconsole.gui.main_window import ConsoleContext, MainWindow
from mppsconsole.gui.scp_control import ScpController
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.store import instances, steps, worklist
from mppsconsole.store.db import Database

WAIT_MS = 30_000


@pytest.fixture
def console(qtbot, tmp_path: Path, qasync_loop: qasync.QEventLoop) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "db.sqlite3")
    hub = EventHub()
    settings = Settings(bind_address="127.0.0.1", port=0, operator="Tech^Tina")
    scp = ScpController(db, hub, tmp_path / "images")
    window = MainWindow(ConsoleContext(db, hub, settings, tmp_path / "config.toml", tmp_path, scp))
    qtbot.addWidget(window)
    assert scp.start(settings, host="127.0.0.1", port=0)
    window.show()
    yield window
    for task in window.runner.running:
        task.cancel.set()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=WAIT_MS)
    scp.stop()
    window.close()
    db.close()


def _n_create(uid: str, port: int) -> None:
    ds = Dataset()
    item = Dataset()
    item.StudyInstanceUID = "1.2.826.0.1.3680043.10.1.1"
    item.AccessionNumber = "ACC-GUI"
    ds.ScheduledStepAttributesSequence = [item]
    ds.PatientName = "Window^Wanda"
    ds.PatientID = "PW1"
    ds.PerformedProcedureStepID = "PPS1"
    ds.PerformedStationAETitle = "MOD1"
    ds.PerformedProcedureStepStartDate = "20261122"
    ds.PerformedProcedureStepStartTime = "090000"
    ds.PerformedProcedureStepStatus = IN_PROGRESS
    ds.Modality = "MR"
    ds.PerformedSeriesSequence = []
    _send(port, lambda a: a.send_n_create(ds, ModalityPerformedProcedureStep, uid))


def _n_set_completed(uid: str, port: int) -> None:
    mods = Dataset()
    mods.PerformedProcedureStepStatus = COMPLETED
    mods.PerformedProcedureStepEndDate = "20261122"
    mods.PerformedProcedureStepEndTime = "093000"
    series = Dataset()
    series.SeriesInstanceUID = "1.2.826.0.1.3680043.10.1.2"
    series.ProtocolName = "Brain"
    series.ReferencedImageSequence = []
    mods.PerformedSeriesSequence = [series]
    _send(port, lambda a: a.send_n_set(mods, ModalityPerformedProcedureStep, uid))


def _send(port: int, request) -> None:  # type: ignore[no-untyped-def]
    ae = AE(ae_title="MOD1")
    ae.add_requested_context(ModalityPerformedProcedureStep)
    assoc = ae.associate("127.0.0.1", port, ae_title="MPPSCONSOLE", evt_handlers=[NODELAY_HANDLER])
    assert assoc.is_established
    status, _ = request(assoc)
    assoc.release()
    assert status.Status == 0x0000


def _row_status(window: MainWindow, uid: str, direction: str) -> str | None:
    row = window.model.row_of(uid, direction)
    return None if row is None else window.model.step(row).status


def test_received_steps_appear_live_and_keep_the_selection(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    port = console.ctx.scp.address[1]  # type: ignore[index]
    _n_create("1.2.826.0.1.3680043.10.1.10", port)
    _n_create("1.2.826.0.1.3680043.10.1.11", port)
    qtbot.waitUntil(lambda: console.model.rowCount() == 2, timeout=WAIT_MS)
    assert console.steps_panel.select("1.2.826.0.1.3680043.10.1.10")
    assert console.detail.uid == "1.2.826.0.1.3680043.10.1.10"

    _n_set_completed("1.2.826.0.1.3680043.10.1.10", port)
    qtbot.waitUntil(
        lambda: _row_status(console, "1.2.826.0.1.3680043.10.1.10", RECEIVED) == COMPLETED,
        timeout=WAIT_MS,
    )
    selected = console.steps_panel.selected_step()
    assert selected is not None and selected.sop_instance_uid == "1.2.826.0.1.3680043.10.1.10"
    assert selected.status == COMPLETED
    assert console.detail.history.rowCount() == 2  # N-CREATE and N-SET, reloaded live
    assert "associations" in console.server_label.text()


def test_start_complete_and_discontinue_drive_real_associations(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    db = console.ctx.db
    items = [
        build_item(
            {
                "patient_name": "Gui^One",
                "patient_id": "G1",
                "modality": "CT",
                "date": "today",
                "accession_number": "GUI1",
            }
        ),
        build_item(
            {
                "patient_name": "Gui^Two",
                "patient_id": "G2",
                "modality": "US",
                "date": "today",
                "accession_number": "GUI2",
            }
        ),
    ]
    with db.transaction() as conn:
        worklist.add_many(conn, items)

    console.start_scheduled([items[0]])
    # sent + received rows, and the started step selected once the task reports
    qtbot.waitUntil(
        lambda: console.model.rowCount() == 2 and not console.runner.running, timeout=WAIT_MS
    )
    first = console.steps_panel.selected_step()
    assert first is not None and first.direction == SENT and first.accession_number == "GUI1"
    assert console.act_complete.isEnabled() and console.act_discontinue.isEnabled()

    console.complete_selected(image_count=2)
    uid = first.sop_instance_uid
    qtbot.waitUntil(lambda: _row_status(console, uid, RECEIVED) == COMPLETED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _row_status(console, uid, SENT) == COMPLETED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not console.runner.running, timeout=WAIT_MS)
    with db.reading() as conn:
        received = [i for i in instances.for_step(conn, uid) if i.direction == RECEIVED]
        item = worklist.find_by_accession(conn, "GUI1")[0]
    assert len(received) == 2 and all(Path(i.path).is_file() for i in received)
    assert item.status == COMPLETED
    assert not console.act_complete.isEnabled()  # a completed step cannot be completed again

    console.start_scheduled([items[1]])
    qtbot.waitUntil(
        lambda: console.model.rowCount() == 4 and not console.runner.running, timeout=WAIT_MS
    )
    second = console.steps_panel.selected_step()
    assert second is not None and second.accession_number == "GUI2"
    console.discontinue_selected(discontinuation_reason("110501"))
    qtbot.waitUntil(
        lambda: _row_status(console, second.sop_instance_uid, RECEIVED) == DISCONTINUED,
        timeout=WAIT_MS,
    )
    # the sent row's update too: left in the bridge, it would reach a closed store at teardown
    qtbot.waitUntil(
        lambda: _row_status(console, second.sop_instance_uid, SENT) == DISCONTINUED,
        timeout=WAIT_MS,
    )
    with db.reading() as conn:
        stored = steps.get(conn, second.sop_instance_uid, RECEIVED)
    assert stored is not None and '"110501"' in stored.dataset_json


def test_send_images_and_commit_for_a_step(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    with console.ctx.db.transaction() as conn:
        worklist.add_many(
            conn,
            [
                build_item(
                    {
                        "patient_name": "Img^Ida",
                        "patient_id": "I1",
                        "modality": "SC",
                        "date": "today",
                        "accession_number": "IMG1",
                    }
                )
            ],
        )
    with console.ctx.db.reading() as conn:
        console.start_scheduled(worklist.find_by_accession(conn, "IMG1"))
    qtbot.waitUntil(
        lambda: console.steps_panel.selected_step() is not None and not console.runner.running,
        timeout=WAIT_MS,
    )
    step = console.steps_panel.selected_step()
    assert step is not None
    console.send_images_selected(count=3)
    qtbot.waitUntil(lambda: not console.runner.running, timeout=WAIT_MS)
    with console.ctx.db.reading() as conn:
        linked = instances.for_step(conn, step.sop_instance_uid)
    assert sum(1 for i in linked if i.direction == SENT) == 3

    console.complete_selected(image_count=0)
    qtbot.waitUntil(
        lambda: _row_status(console, step.sop_instance_uid, SENT) == COMPLETED, timeout=WAIT_MS
    )
    console.steps_panel.select(step.sop_instance_uid, SENT)
    console.commit_selected()
    qtbot.waitUntil(lambda: "committed" in console.statusBar().currentMessage(), timeout=WAIT_MS)
    assert "3 committed, 0 failed" in console.statusBar().currentMessage()


def test_a_port_in_use_is_reported_not_fatal(qtbot, tmp_path: Path, qasync_loop) -> None:  # type: ignore[no-untyped-def]
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    db = Database(tmp_path / "db.sqlite3")
    try:
        scp = ScpController(db, EventHub(), tmp_path / "images")
        states: list[tuple[str, bool]] = []
        scp.state_changed.connect(lambda text, ok: states.append((text, ok)))
        assert not scp.start(Settings(bind_address="127.0.0.1", port=port))
        assert states and not states[-1][1]
        assert f"127.0.0.1:{port}" in states[-1][0]
        assert not scp.listening
    finally:
        blocker.close()
        db.close()


def test_a_failed_action_explains_itself(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    from mppsconsole.core.settings import Node

    console.settings = Settings(
        bind_address="127.0.0.1", port=0, nodes=(Node("down", "DOWN", "127.0.0.1", port),)
    )
    console.echo_node("down")
    qtbot.waitUntil(lambda: console.messages.last_dialog is not None, timeout=WAIT_MS)
    dialog = console.messages.last_dialog
    assert dialog is not None and dialog.icon() == QMessageBox.Icon.Warning
    assert "connection refused" in dialog.text()
    assert "host and port" in dialog.text()  # what to check
    dialog.close()


def test_a_new_port_restarts_the_scp_in_place(qtbot, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from mppsconsole.net.echo_scu import echo

    old_port = console.ctx.scp.address[1]  # type: ignore[index]
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    new_port = probe.getsockname()[1]
    probe.close()
    console.apply_settings(Settings(bind_address="127.0.0.1", port=new_port))
    assert console.ctx.scp.address == ("127.0.0.1", new_port)
    assert f":{new_port}" in console.server_label.text()
    node = console.resolve_node("self")
    assert node is not None and node.port == new_port
    assert echo("PROBE", node) >= 0
    with socket.socket() as old:
        assert old.connect_ex(("127.0.0.1", old_port)) != 0  # the old port is closed
    assert "port = " + str(new_port) in console.ctx.config_path.read_text(encoding="utf-8")


def test_window_layout_is_remembered(qtbot, tmp_path: Path, console: MainWindow) -> None:  # type: ignore[no-untyped-def]
    header = console.steps_panel.table.horizontalHeader()
    header.resizeSection(1, 333)
    header.moveSection(4, 1)
    console.resize(1111, 777)
    console.save_layout()
    again = MainWindow(console.ctx)
    qtbot.addWidget(again)
    again_header = again.steps_panel.table.horizontalHeader()
    assert again_header.sectionSize(1) == 333
    assert again_header.visualIndex(4) == 1
    state = (console.ctx.data_dir / "window.ini").read_text(encoding="utf-8")
    assert "geometry=" in state and "steps_header=" in state
    again.bridge.close()


def test_a_full_disk_reported_by_the_scp_is_shown_not_only_logged(
    console: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    reason = "cannot write /data/images/1.dcm: No space left on device"
    for _ in range(3):  # a modality retrying: one dialog, the status bar says why
        console.ctx.hub.publish(
            Traffic(dt.datetime.now(), "in", "MOD@127.0.0.1:1", "C-STORE", "0xA700", reason, reason)
        )
        console.bridge.drain()
    dialog = console.messages.last_dialog
    assert dialog is not None and dialog.isVisible()
    assert "No space left on device" in dialog.text()
    assert dialog.icon() == QMessageBox.Icon.Warning
    assert "No space left on device" in console.statusBar().currentMessage()
    shown = [w for w in console.findChildren(QMessageBox) if w.isVisible()]
    assert shown == [dialog]
    dialog.close()
