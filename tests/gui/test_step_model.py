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
from mppsconsole.gui.step_filter import StepFilter
from mppsconsole.gui.step_model import COLUMNS, STEP_ROLE, StepTableModel
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


def uids(model: StepTableModel) -> list[str]:
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
    model.set_filter(StepFilter(text="p00007"))
    assert uids(model) == ["1.2.3.7"]
    model.set_filter(StepFilter(status=COMPLETED, direction=SENT))
    assert all(
        model.step(r).status == COMPLETED and model.step(r).direction == SENT
        for r in range(model.rowCount())
    )
    assert model.rowCount() == len([n for n in range(30) if n % 3 == 1 and n % 2 == 0])
    assert model.step_count == 30
    model.set_filter(StepFilter(start_from=dt.date(2026, 11, 22)))
    assert model.rowCount() == 0
    model.set_filter(StepFilter(start_from=dt.date(2026, 11, 21), start_to=dt.date(2026, 11, 21)))
    assert model.rowCount() == 30
    model.set_filter(StepFilter())
    assert model.rowCount() == 30


def test_ten_thousand_steps_load_sort_and_filter() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(10_000)])
    assert model.rowCount() == 10_000
    assert uids(model)[:2] == ["1.2.3.9999", "1.2.3.9998"]
    model.set_filter(StepFilter(text="Patient^0123"))
    assert sorted(uids(model)) == sorted(f"1.2.3.{n}" for n in range(1230, 1240))
    model.sort(2, Qt.SortOrder.AscendingOrder)
    assert uids(model) == [f"1.2.3.{n}" for n in range(1230, 1240)]
    model.set_filter(StepFilter())
    assert uids(model)[:2] == ["1.2.3.0", "1.2.3.1"]


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
    assert [panel.model.index(r, 2).data() for r in range(3)] == ["P00009", "P00004", "P00002"]


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


def test_filtered_model_passes_qt_model_tester_while_steps_come_and_go(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = StepTableModel()
    model.reset([step(n) for n in range(20)])
    model.set_filter(StepFilter(status=IN_PROGRESS))
    qtmodeltester.check(model, force_py=True)
    model.apply([step(5, status=COMPLETED), step(100), step(101, status=COMPLETED)])
    assert model.rowCount() == 20 and model.step_count == 22
    model.apply([step(5)])
    assert model.rowCount() == 21
    qtmodeltester.check(model, force_py=True)


def test_updates_hide_and_show_rows_as_the_filter_says() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(6)])
    model.set_filter(StepFilter(status=IN_PROGRESS))
    kept = QPersistentModelIndex(model.index(model.row_of("1.2.3.1") or 0, 2))
    model.apply([step(3, status=COMPLETED), step(9, status=COMPLETED), step(10)])
    assert uids(model) == [f"1.2.3.{n}" for n in (10, 5, 4, 2, 1, 0)]
    assert model.row_of("1.2.3.3") is None and model.row_of("1.2.3.9") is None
    assert kept.isValid() and model.step(kept.row()).sop_instance_uid == "1.2.3.1"
    model.apply([step(3, status=IN_PROGRESS, patient_name="Back^Again")])
    assert uids(model)[3] == "1.2.3.3" and model.index(3, 1).data() == "Back Again"
    model.set_filter(StepFilter())
    assert uids(model) == [f"1.2.3.{n}" for n in (10, 9, 5, 4, 3, 2, 1, 0)]


def test_a_filter_change_keeps_the_selection_on_its_step_while_shown() -> None:
    model = StepTableModel()
    model.reset([step(n) for n in range(10)])
    selected = QPersistentModelIndex(model.index(model.row_of("1.2.3.4") or 0, 0))
    model.set_filter(StepFilter(direction=SENT))  # even numbers are sent
    assert selected.isValid() and model.step(selected.row()).sop_instance_uid == "1.2.3.4"
    model.set_filter(StepFilter(direction=RECEIVED))
    assert not selected.isValid()


def test_rows_from_the_store_show_the_same_as_summaries() -> None:
    """Rows (store.steps.list_rows) are made into text and StepSummary only when asked."""
    local = dt.timezone(dt.timedelta(hours=2))
    summaries = [
        step(1, start=dt.datetime(2026, 3, 29, 1, 30, 15, 250, tzinfo=local)),
        step(2, status=COMPLETED, end=BASE + dt.timedelta(hours=1), series_count=2),
        step(3, start=None, patient_name="^Only^Given", finding_count=2, worst_finding="error"),
        step(4, start=dt.datetime(2026, 11, 21, 9, 5)),  # naive: as old stores hold them
    ]
    from_summaries, from_rows = StepTableModel(), StepTableModel()
    from_summaries.reset(summaries)
    from_rows.load([s.to_row() for s in summaries])
    texts = [
        [from_rows.index(r, c).data() for c in range(len(COLUMNS))]
        for r in range(from_rows.rowCount())
    ]
    assert texts == [
        [from_summaries.index(r, c).data() for c in range(len(COLUMNS))]
        for r in range(from_summaries.rowCount())
    ]
    by_uid = {t[2]: t for t in texts}
    assert by_uid["P00001"][7] == "2026-03-29 01:30:15"
    assert by_uid["P00002"][8] == "2026-11-21 09:00:00" and by_uid["P00002"][9] == "2 / 0"
    assert by_uid["P00003"][1] == "Only Given" and by_uid["P00003"][7] == ""
    assert by_uid["P00003"][12] == "2"
    shown = {from_rows.step(r).sop_instance_uid: from_rows.step(r) for r in range(4)}
    assert shown == {s.sop_instance_uid: s for s in summaries}
    assert from_rows.index(0, 0).data(STEP_ROLE) == from_rows.step(0)


def test_the_panel_counts_shown_and_all_steps(qtbot) -> None:  # type: ignore[no-untyped-def]
    from mppsconsole.gui.steps_panel import StepsPanel

    model = StepTableModel()
    panel = StepsPanel(model)
    qtbot.addWidget(panel)
    model.reset([step(n) for n in range(12)])
    assert panel.count.text() == "12 steps"
    panel.search.setText("p00003")
    assert model.rowCount() == 1 and panel.count.text() == "1 of 12 steps"
    assert panel.select("1.2.3.3") and not panel.select("1.2.3.4")
    selected = panel.selected_step()
    assert selected is not None and selected.sop_instance_uid == "1.2.3.3"
    panel.search.clear()
    selected = panel.selected_step()
    assert selected is not None and selected.sop_instance_uid == "1.2.3.3"  # still selected
    assert panel.count.text() == "12 steps"
    panel.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # a click on "Patient ID"
    assert model.sort_column == 2 and uids(model)[:2] == ["1.2.3.0", "1.2.3.1"]
    selected = panel.selected_step()
    assert selected is not None and selected.sop_instance_uid == "1.2.3.3"
