"""The step table model, its filter proxy and the event bridge, without a window."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import threading

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt

from mppsconsole.core.events import EventHub, StepChanged, Traffic
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS
from mppsconsole.core.step import RECEIVED, SENT, StepSummary
from mppsconsole.gui.bridge import EventBridge
from mppsconsole.gui.step_filter import StepFilter, StepFilterProxy
from mppsconsole.gui.step_model import COLUMNS, StepTableModel
from mppsconsole.gui.traffic_log import TrafficModel

pytestmark = pytest.mark.usefixtures("qapp")  # icons and brushes need a QGuiApplication

BASE = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC)


def step(n: int, **changes: object) -> StepSummary:
    summary = StepSummary(
        sop_instance_uid=f"1.2.3.{n}",
        status=IN_PROGRESS,
        direction=RECEIVED if n % 2 else SENT,
        patient_name=f"Patient^{n:05d}",
        patient_id=f"P{n:05d}",
        accession_number=f"A{n:05d}",
        modality="CT",
        station_ae="CT01",
        start=BASE + dt.timedelta(minutes=n),
        calling_ae="MOD1",
    )
    return dataclasses.replace(summary, **changes)  # type: ignore[arg-type]


def uids(model: StepTableModel | StepFilterProxy) -> list[str]:
    return [
        model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole) for row in range(model.rowCount())
    ]


def test_model_passes_qt_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = StepTableModel()
    model.reset([step(n) for n in range(20)])
    qtmodeltester.check(model, force_py=True)
    model.apply([step(5, status=COMPLETED), step(100)])
    qtmodeltester.check(model, force_py=True)


def test_rows_are_sorted_newest_first_and_new_steps_land_in_order() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in (3, 1, 2)])
    assert uids(model) == ["1.2.3.3", "1.2.3.2", "1.2.3.1"]
    model.apply([step(5), step(0), step(4)])
    assert uids(model) == [f"1.2.3.{n}" for n in (5, 4, 3, 2, 1, 0)]


def test_update_keeps_the_row_and_its_persistent_index() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(10)])
    row = model.row_of("1.2.3.4")
    assert row is not None
    persistent = QPersistentModelIndex(model.index(row, 0))
    model.apply([step(4, status=COMPLETED, end=BASE + dt.timedelta(hours=1))])
    assert persistent.isValid() and persistent.row() == row
    assert model.index(row, 0).data() == COMPLETED
    assert model.rowCount() == 10


def test_sorting_by_a_column_keeps_persistent_indexes_on_their_step() -> None:
    model = StepTableModel()
    model.reset([step(n, patient_name=f"Name^{(7 * n) % 10}") for n in range(10)])
    persistent = QPersistentModelIndex(model.index(model.row_of("1.2.3.3") or 0, 0))
    model.sort(1, Qt.SortOrder.AscendingOrder)
    names = [model.index(r, 1).data() for r in range(10)]
    assert names == sorted(names)
    assert model.step(persistent.row()).sop_instance_uid == "1.2.3.3"


def test_a_changed_sort_key_moves_the_row() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(5)])
    model.sort(1, Qt.SortOrder.AscendingOrder)  # by patient name
    model.apply([step(0, patient_name="Zz^Last")])
    assert model.step(4).sop_instance_uid == "1.2.3.0"


def test_elapsed_column_runs_for_open_steps_and_shows_the_end_for_closed() -> None:
    model = StepTableModel()
    ended = BASE + dt.timedelta(hours=2)
    model.reset([step(1), step(2, status=COMPLETED, end=ended)])
    model.tick(BASE + dt.timedelta(minutes=1, seconds=30, hours=1))
    column = [c[0] for c in COLUMNS].index("Ended / elapsed")
    open_row, closed_row = model.row_of("1.2.3.1"), model.row_of("1.2.3.2")
    assert model.index(open_row or 0, column).data() == "running 1:00:30"
    assert model.index(closed_row or 0, column).data() == "2026-11-21 10:00:00"


def test_filter_by_text_status_direction_and_date() -> None:
    model = StepTableModel()
    model.reset([step(n, status=[IN_PROGRESS, COMPLETED, DISCONTINUED][n % 3]) for n in range(30)])
    proxy = StepFilterProxy(model)
    proxy.set_filter(StepFilter(text="p00007"))
    assert uids(proxy) == ["1.2.3.7"]
    proxy.set_filter(StepFilter(status=COMPLETED, direction=SENT))
    assert all(
        model.step(proxy.mapToSource(proxy.index(r, 0)).row()).status == COMPLETED
        and model.step(proxy.mapToSource(proxy.index(r, 0)).row()).direction == SENT
        for r in range(proxy.rowCount())
    )
    assert proxy.rowCount() == len([n for n in range(30) if n % 3 == 1 and n % 2 == 0])
    proxy.set_filter(StepFilter(start_from=dt.date(2026, 11, 22)))
    assert proxy.rowCount() == 0
    proxy.set_filter(StepFilter())
    assert proxy.rowCount() == 30


def test_ten_thousand_steps_load_sort_and_filter() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(10_000)])
    proxy = StepFilterProxy(model)
    assert proxy.rowCount() == 10_000
    assert uids(proxy)[:2] == ["1.2.3.9999", "1.2.3.9998"]
    proxy.set_filter(StepFilter(text="Patient^0123"))
    assert sorted(uids(proxy)) == sorted(f"1.2.3.{n}" for n in range(1230, 1240))
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    assert uids(proxy) == [f"1.2.3.{n}" for n in range(1230, 1240)]


def test_bridge_batches_events_from_other_threads(qtbot) -> None:  # type: ignore[no-untyped-def]
    hub = EventHub()
    bridge = EventBridge(hub)
    batches: list[list[StepSummary]] = []
    traffic: list[list[Traffic]] = []
    bridge.steps_changed.connect(batches.append)
    bridge.traffic.connect(traffic.append)

    def publish() -> None:
        for n in range(500):
            hub.publish(StepChanged(step(n % 50, image_count=n)))
        # the same step as received by our SCP and as sent by our SCU: both must arrive
        hub.publish(StepChanged(step(7, direction=RECEIVED, status=COMPLETED)))
        hub.publish(StepChanged(step(7, direction=SENT, status=COMPLETED)))
        hub.publish(Traffic(BASE, "in", "MOD@127.0.0.1:1", "N-SET", "0x0000"))

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join(10)
    qtbot.waitUntil(lambda: bool(traffic), timeout=5000)
    delivered = [s for batch in batches for s in batch]
    assert len(batches) < 50  # batched, not one signal per event
    latest = {(s.sop_instance_uid, s.direction): s for s in delivered}
    assert {k: s.image_count for k, s in latest.items() if k[0] != "1.2.3.7"} == {
        (f"1.2.3.{n}", RECEIVED if n % 2 else SENT): 450 + n for n in range(50) if n != 7
    }  # the last state of each step
    assert latest[("1.2.3.7", RECEIVED)].status == latest[("1.2.3.7", SENT)].status == COMPLETED
    bridge.close()
    hub.publish(StepChanged(step(1)))
    bridge.drain()
    assert sum(len(b) for b in batches) == len(delivered)


def test_traffic_model_is_capped_and_passes_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TrafficModel(cap=100)
    model.append([Traffic(BASE, "in", "A@h:1", "C-ECHO", f"{n}") for n in range(70)])
    model.append([Traffic(BASE, "out", "A@h:1", "C-ECHO", f"{n}") for n in range(70, 150)])
    assert model.rowCount() == 100
    assert model.index(0, 4).data() == "50"
    assert model.index(99, 4).data() == "149"
    qtmodeltester.check(model, force_py=True)


def test_model_signals_do_not_leak_references_to_none_or_true(qtbot) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 on CPython 3.11 drops a reference per call until CPython aborts."""
    model = StepTableModel()
    hub = EventHub()
    bridge = EventBridge(hub)
    model.reset([step(n) for n in range(10)])
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for n in range(300):
        model.apply([step(1000 + n)])
        model.reset([step(k) for k in range(5)])
        bridge.steps_changed.emit([])
    bridge.close()
    assert sys.getrefcount(None) - none_before < 100
    assert sys.getrefcount(True) - true_before < 100


def test_a_moved_row_keeps_its_persistent_index() -> None:
    """The view's selection survives a status change while sorted by status."""
    model = StepTableModel()
    model.reset([step(n) for n in range(6)])
    model.sort(0, Qt.SortOrder.AscendingOrder)  # by status: all IN PROGRESS
    row = model.row_of("1.2.3.2")
    assert row is not None
    persistent = QPersistentModelIndex(model.index(row, 3))
    model.apply([step(2, status=COMPLETED)])
    assert model.step(0).sop_instance_uid == "1.2.3.2"  # COMPLETED sorts first
    assert persistent.isValid() and persistent.row() == 0 and persistent.column() == 3
    model.apply([step(2, status=IN_PROGRESS)])
    assert persistent.isValid()
    assert model.step(persistent.row()).sop_instance_uid == "1.2.3.2"
    statuses = [model.step(r).status for r in range(6)]
    assert statuses == sorted(statuses)


def test_the_table_starts_sorted_newest_first(qtbot) -> None:  # type: ignore[no-untyped-def]
    from mppsconsole.gui.steps_panel import StepsPanel

    model = StepTableModel()
    panel = StepsPanel(model)
    qtbot.addWidget(panel)
    model.reset([step(n) for n in (2, 9, 4)])
    header = panel.table.horizontalHeader()
    assert header.sortIndicatorSection() == 7 and model.sort_column == 7
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert [panel.proxy.index(r, 2).data() for r in range(3)] == ["P00009", "P00004", "P00002"]


@pytest.mark.parametrize("order", [Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder])
def test_mixed_batches_keep_the_order_and_persistent_indexes_follow_their_step(
    order: Qt.SortOrder,
) -> None:
    """Inserts, in-place updates and moves in one batch, as the bridge delivers them."""
    import random

    chooser = random.Random(8)
    model = StepTableModel()
    model.sort(7, order)
    current = {n: step(n) for n in range(0, 60, 3)}
    model.reset(list(current.values()))
    watched = [QPersistentModelIndex(model.index(r, 0)) for r in range(0, 20, 4)]
    watched_uids = [model.step(p.row()).sop_instance_uid for p in watched]
    for _ in range(30):
        batch = []
        for _ in range(chooser.randint(1, 12)):
            n = chooser.randrange(80)
            if n in current and chooser.random() < 0.5:  # moves: a new start time
                changed = dataclasses.replace(current[n], start=BASE + dt.timedelta(hours=n))
            elif n in current:
                changed = dataclasses.replace(current[n], status=COMPLETED)
            else:
                changed = step(n)
            current[n] = changed
            batch.append(changed)
        model.apply(batch)
        expected = sorted(
            current.values(),
            key=lambda s: (s.start, s.sop_instance_uid),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        assert [model.step(r) for r in range(model.rowCount())] == expected
        assert [model.row_of(s.sop_instance_uid) for s in expected] == list(range(len(expected)))
        assert [model.step(p.row()).sop_instance_uid for p in watched] == watched_uids
