"""One GUI measurement in its own process: ``python -m bench.gui_worker CASE VARIANT [...]``.

Run with QT_QPA_PLATFORM=offscreen (bench.gui does). Prints ``RESULT {json}`` on
stdout. Cases:

* ``updates bridge|signal``: event-loop lateness while step updates arrive from
  a worker thread, through EventHub -> EventBridge -> StepTableModel in a shown
  StepsPanel (bridge), or one queued signal per event calling
  ``StepTableModel.apply([step])`` (signal, the baseline).
* ``scp console|bare``: lateness while a sender process stores images into the
  embedded SCP of the real MainWindow (console: ScpController/DepartmentServer,
  EventHub bridged to the window), or into a bare pynetdicom storage SCP in the
  same process beside the same window (bare, the baseline).
* ``load console|bare DB``: time and peak RSS to load and show the steps of DB
  in the MainWindow (console), or in a minimal model over the rows of a plain
  SELECT in a QTableView (bare).
* ``bare-window``: a bare QMainWindow with a QTableView, shown; logs "window
  shown N ms after start" like the app does (the start-up baseline).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

STARTED = time.perf_counter()

from PySide6.QtCore import (  # noqa: E402
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView  # noqa: E402

TICK_MS = 10


def result(**values: Any) -> None:
    values["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(values), flush=True)


class Lateness(QObject):
    """A 10 ms precise timer, re-armed on every tick; lateness = fired - due, in ms."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[float] = []
        self.recording = False
        self._due = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._due = time.perf_counter() + TICK_MS / 1000
        self._timer.start(TICK_MS)

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        if self.recording:
            self.samples.append((now - self._due) * 1000)
        self._due = now + TICK_MS / 1000
        self._timer.start(TICK_MS)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.samples)
        if not ordered:
            return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "ticks": 0}

        def pick(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

        return {"p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1], "ticks": len(ordered)}


def run_for(app: QApplication, seconds: float) -> None:
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()


# --------------------------------------------------------------------- updates


def _summaries(count: int, offset: int, start: dt.datetime) -> list[Any]:
    from mppsconsole.core.step import RECEIVED, StepSummary

    return [
        StepSummary(
            sop_instance_uid=f"1.2.826.0.1.3680043.10.1417.9.{offset + i}",
            status="IN PROGRESS",
            direction=RECEIVED,
            patient_name=f"Bench^Patient{(offset + i) % 5000:05d}",
            patient_id=f"BP{(offset + i) % 5000:06d}",
            accession_number=f"ACC{offset + i:07d}",
            modality="CT",
            station_ae="CT01",
            description="CT chest with contrast",
            study_instance_uid=f"1.2.826.0.1.3680043.10.1417.8.{offset + i}",
            start=start + dt.timedelta(milliseconds=i),
            calling_ae="BENCH-SCU",
        )
        for i in range(count)
    ]


def _events(rate: int, seconds: float) -> list[Any]:
    """Step updates as an SCP publishes them: each step created, then completed ~25 later."""
    created = _summaries(int(rate * seconds / 2) + 50, 1_000_000, dt.datetime.now().astimezone())
    end = dt.datetime.now().astimezone() + dt.timedelta(minutes=15)
    events: list[Any] = []
    for i, step in enumerate(created):
        events.append(step)
        if i >= 25:
            done = created[i - 25]
            events.append(
                dataclasses.replace(
                    done, status="COMPLETED", end=end, series_count=1, image_count=20
                )
            )
    return events[: int(rate * seconds)]


class PerEvent(QObject):
    """The baseline's delivery: one queued signal per event, one model update each."""

    one = Signal(object)


def case_updates(variant: str, rate: int, seconds: float, preload: int) -> None:
    from mppsconsole.core.events import EventHub, StepChanged
    from mppsconsole.gui.bridge import EventBridge
    from mppsconsole.gui.step_model import StepTableModel
    from mppsconsole.gui.steps_panel import StepsPanel

    app = QApplication(sys.argv[:1])
    model = StepTableModel()
    panel = StepsPanel(model)
    panel.resize(1400, 800)
    old = dt.datetime.now().astimezone() - dt.timedelta(days=3)
    model.reset(_summaries(preload, 0, old))
    panel.show()
    app.processEvents()

    events = _events(rate, seconds)
    delivered = [0]
    if variant == "bridge":
        hub = EventHub()
        bridge = EventBridge(hub)

        def apply_batch(batch: list[Any]) -> None:
            delivered[0] += len(batch)
            model.apply(batch)

        bridge.steps_changed.connect(apply_batch)

        def publish(step: Any) -> None:
            hub.publish(StepChanged(step))

    else:
        feeder = PerEvent()

        def apply_one(step: Any) -> None:
            delivered[0] += 1
            model.apply([step])

        feeder.one.connect(apply_one, Qt.ConnectionType.QueuedConnection)

        def publish(step: Any) -> None:
            feeder.one.emit(step)

    stop = threading.Event()
    published = [0]

    def worker() -> None:
        started = time.perf_counter()
        k = 0
        while k < len(events) and not stop.is_set():
            due = min(len(events), int((time.perf_counter() - started) * rate))
            while k < due:
                publish(events[k])
                k += 1
            published[0] = k
            time.sleep(0.002)

    lateness = Lateness()
    lateness.start()
    thread = threading.Thread(target=worker, daemon=True)

    def begin() -> None:
        lateness.recording = True
        thread.start()

    QTimer.singleShot(300, begin)
    run_for(app, seconds + 0.3)
    lateness.recording = False
    stop.set()
    thread.join(timeout=10)
    app.processEvents()
    result(
        **lateness.summary(),
        published=published[0],
        rate=published[0] / seconds,
        deliveries=delivered[0],
        rows=model.rowCount(),
    )


# ------------------------------------------------------------------------- scp


def _settings(data_dir: Path) -> Any:
    from mppsconsole.core.settings import Settings

    return Settings(port=0, bind_address="127.0.0.1")


def _window(data_dir: Path, db_path: Path | None = None) -> tuple[Any, Any, Any, Any]:
    """The real MainWindow over a store in ``data_dir``: (window, scp controller, hub, db)."""
    from mppsconsole.core.events import EventHub
    from mppsconsole.gui.main_window import ConsoleContext, MainWindow
    from mppsconsole.gui.scp_control import ScpController
    from mppsconsole.store.db import Database

    settings = _settings(data_dir)
    db = Database(db_path or data_dir / "mppsconsole.sqlite3", durability=settings.durability)
    hub = EventHub()
    scp = ScpController(db, hub, data_dir / "images")
    window = MainWindow(ConsoleContext(db, hub, settings, data_dir / "config.toml", data_dir, scp))
    return window, scp, hub, db


def _bare_storage_scp(folder: Path) -> tuple[Any, int]:
    from pynetdicom import AE, AllStoragePresentationContexts, evt
    from pynetdicom.transport import ThreadedAssociationServer

    from mppsconsole.net.sockets import NODELAY_HANDLER

    folder.mkdir(parents=True, exist_ok=True)

    def on_store(event: Any) -> int:
        with open(folder / f"{event.request.AffectedSOPInstanceUID}.dcm", "wb") as f:
            f.write(event.encoded_dataset())
        return 0x0000

    ae = AE(ae_title="ANY-SCP")
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cast(str, cx.abstract_syntax))
    server = cast(
        ThreadedAssociationServer,
        ae.start_server(
            ("127.0.0.1", 0),
            block=False,
            evt_handlers=[NODELAY_HANDLER, (evt.EVT_C_STORE, on_store)],
        ),
    )
    return server, int(server.server_address[1])


def case_scp(variant: str, data_dir: Path, rate: int, seconds: float, size: int) -> None:
    app = QApplication(sys.argv[:1])
    window, scp, _, db = _window(data_dir)
    window.show()
    app.processEvents()
    server = None
    if variant == "console":
        if not scp.start(_settings(data_dir)):
            raise RuntimeError(f"SCP did not start: {scp.error}")
        port, called = scp.address[1], "MPPSCONSOLE"
    else:
        server, port = _bare_storage_scp(data_dir / "bare")
        called = "ANY-SCP"
    sender = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.sender",
            str(port),
            called,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--size",
            str(size),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    sending = threading.Event()

    def read() -> None:
        assert sender.stdout is not None
        for line in sender.stdout:
            lines.append(line)
            if line.startswith("sending"):
                sending.set()
        sending.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    lateness = Lateness()
    lateness.start()

    def poll() -> None:
        if sending.is_set() and not lateness.recording and sender.poll() is None:
            lateness.recording = True
        if sender.poll() is not None:
            lateness.recording = False
            app.quit()
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)
    QTimer.singleShot(int((seconds + 60) * 1000), app.quit)  # bound
    app.exec()
    try:
        sender.wait(timeout=30)
    except subprocess.TimeoutExpired:
        sender.kill()
        sender.wait(timeout=10)
    reader.join(timeout=10)
    sent: dict[str, Any] = next(
        (json.loads(line[5:]) for line in lines if line.startswith("SENT ")), {}
    )
    scp.stop()
    if server is not None:
        server.shutdown()
    window.close()
    db.close()
    result(**lateness.summary(), **sent)


# ------------------------------------------------------------------------ load


class RowsModel(QAbstractTableModel):
    """The least a table model can be: rows of tuples, text out."""

    def __init__(self, rows: list[tuple[Any, ...]], columns: int) -> None:
        super().__init__()
        self._rows = rows
        self._columns = columns

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._columns

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            value = self._rows[index.row()][index.column()]
            return "" if value is None else str(value)
        return None


def case_load(variant: str, data_dir: Path, db_path: Path) -> None:
    if variant == "console":  # imports outside the timing, as the bare variant has none
        import mppsconsole.gui.main_window
        import mppsconsole.gui.scp_control  # noqa: F401
    app = QApplication(sys.argv[:1])
    started = time.perf_counter()
    phases: dict[str, float] = {}
    if variant == "console":
        from mppsconsole.store import steps

        window, _, _, db = _window(data_dir, db_path)
        window.show()
        app.processEvents()
        window.steps_panel.table.viewport().repaint()
        phases["window_ms"] = (time.perf_counter() - started) * 1000
        phases["shown_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = window.model.rowCount()
        # the same load again, phase by phase, in the shown window
        t0 = time.perf_counter()
        with db.reading() as conn:  # as MainWindow.reload_steps does
            found = steps.list_rows(conn)
        t1 = time.perf_counter()
        window.model.load(found)
        t2 = time.perf_counter()
        app.processEvents()
        window.steps_panel.table.viewport().repaint()
        t3 = time.perf_counter()
        db.close()
    else:
        conn = sqlite3.connect(db_path)
        found_rows = conn.execute(
            "SELECT status, patient_name, patient_id, accession_number, modality, station_ae, "
            "description, start, end, image_count, direction, calling_ae FROM steps "
            "ORDER BY start DESC"
        ).fetchall()
        model = RowsModel(found_rows, 12)
        window = QMainWindow()
        view = QTableView(window)
        view.setModel(model)
        window.setCentralWidget(view)
        window.resize(1400, 860)
        window.show()
        app.processEvents()
        view.viewport().repaint()
        phases["window_ms"] = (time.perf_counter() - started) * 1000
        phases["shown_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = model.rowCount()
        t0 = time.perf_counter()
        found_rows = conn.execute(
            "SELECT status, patient_name, patient_id, accession_number, modality, station_ae, "
            "description, start, end, image_count, direction, calling_ae FROM steps "
            "ORDER BY start DESC"
        ).fetchall()
        t1 = time.perf_counter()
        model.beginResetModel()
        model._rows = found_rows
        model.endResetModel()
        t2 = time.perf_counter()
        app.processEvents()
        view.viewport().repaint()
        t3 = time.perf_counter()
        conn.close()
    phases.update(query_ms=(t1 - t0) * 1000, reset_ms=(t2 - t1) * 1000, paint_ms=(t3 - t2) * 1000)
    phases["reload_ms"] = (t3 - t0) * 1000
    window.close()
    result(rows=rows, **phases)


def case_bare_window() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QTableView(window))
    window.resize(1400, 860)
    window.show()
    logging.getLogger("bench").info(
        "window shown %.0f ms after start", (time.perf_counter() - STARTED) * 1000
    )
    app.processEvents()
    window.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gui_worker")
    parser.add_argument("case", choices=("updates", "scp", "load", "bare-window"))
    parser.add_argument("variant", nargs="?", default="")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rate", type=int, default=0, help="updates/s or images/s")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--preload", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    if args.case == "updates":
        case_updates(args.variant, args.rate or 1000, args.seconds, args.preload)
    elif args.case == "scp":
        case_scp(args.variant, args.data_dir, args.rate or 200, args.seconds, args.size)
    elif args.case == "load":
        case_load(args.variant, args.data_dir, args.db)
    else:
        case_bare_window()
    return 0


if __name__ == "__main__":
    sys.exit(main())
