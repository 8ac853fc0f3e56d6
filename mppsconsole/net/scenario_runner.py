"""Play a scenario (core.scenario) against a peer and check its expectations.

The runner is a modality going through its day with the same service
functions as the CLI and the window (net.modality): query the worklist, start
each step at its time, store its images, complete or discontinue it, request
storage commitment. Timing is a timeline of start and end events, so steps may
overlap as they do at a real modality; ``speed`` divides every offset.

Orders: when the worklist node is ``self`` (this console's own SCP) they are
added to our own worklist first, so that the SCP serves them; on any other node
they must already be on that node's worklist (the runner queries for them by accession
and starts the step from what the peer returned). An order the worklist does
not return fails its step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable

from mppsconsole.core.errors import PeerError, UserError
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.mpps import IN_PROGRESS
from mppsconsole.core.scenario import Expectation, Order, Scenario, Step
from mppsconsole.core.settings import SELF_NODE, Node
from mppsconsole.core.worklist import WorklistItem, build_item
from mppsconsole.net import modality
from mppsconsole.net.mwl_scu import query_worklist
from mppsconsole.net.status import SUCCESS
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import worklist
from mppsconsole.store.db import Database

Report = Callable[[str], None]
COMMIT_WAIT_S = 30.0


@dataclasses.dataclass
class StepRun:
    """What happened to one step of the scenario."""

    step: Step
    uid: str = ""
    create_status: int | None = None
    set_status: int | None = None
    final_status: str = ""
    images: int = 0
    committed: bool | None = None
    error: str = ""


@dataclasses.dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    passed: bool
    actual: str


@dataclasses.dataclass
class RunResult:
    runs: list[StepRun]
    found_orders: dict[str, bool]
    verdicts: list[Verdict] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def _add_orders(db: Database, scenario: Scenario, began: dt.datetime) -> dict[str, WorklistItem]:
    """Our own worklist gets the orders (target ``self``), scheduled relative to now."""
    items = {
        order.accession: build_item(
            {
                "patient_name": order.patient.name,
                "patient_id": order.patient.id,
                "birth_date": order.patient.birth_date,
                "sex": order.patient.sex,
                "modality": order.modality,
                "accession_number": order.accession,
                "description": order.procedure,
                "scheduled_station_ae": scenario.station_ae,
                "scheduled_start": (
                    began.replace(tzinfo=None) + dt.timedelta(seconds=order.scheduled)
                ).isoformat(timespec="seconds"),
            }
        )
        for order in scenario.orders
    }
    with db.transaction() as conn:
        worklist.add_many(conn, items.values())
    return items


def _find_order(
    station: Workstation, node: Node, order: Order, ours: WorklistItem | None
) -> WorklistItem | None:
    """The order as the peer's worklist returns it (ours, when we added it, by its study)."""
    found = query_worklist(
        station.ae_title, node, WorklistQuery(accession_number=order.accession)
    ).items
    if ours is not None:
        found = [i for i in found if i.study_instance_uid == ours.study_instance_uid]
    return found[0] if found else None


class ScenarioRunner:
    def __init__(
        self,
        db: Database,
        station: Workstation,
        node: Node,
        *,
        speed: float = 1.0,
        report: Report = print,
        cancel: threading.Event | None = None,
        worklist_node: Node | None = None,
        storage_node: Node | None = None,
    ) -> None:
        """``node`` takes everything unless ``worklist_node`` holds the orders or
        ``storage_node`` takes the images (a peer may support only some services)."""
        if speed <= 0:
            raise UserError("the speed factor must be positive")
        self.db, self.station, self.node = db, station, node
        self.worklist_node = worklist_node or node
        self.storage_node = storage_node or node
        self.speed, self.report = speed, report
        self.cancel = cancel or threading.Event()

    def _wait_until(self, began: float, offset: float) -> None:
        remaining = began + offset / self.speed - time.monotonic()
        if remaining > 0:
            self.cancel.wait(remaining)
        if self.cancel.is_set():
            raise UserError("scenario run cancelled")

    def run(self, scenario: Scenario) -> RunResult:
        began_at = dt.datetime.now().astimezone()
        began = time.monotonic()
        total = len(scenario.steps)
        own = self.worklist_node.name == SELF_NODE
        ours = _add_orders(self.db, scenario, began_at) if own else {}
        found: dict[str, WorklistItem | None] = {}
        for order in scenario.orders:
            found[order.accession] = _find_order(
                self.station, self.worklist_node, order, ours.get(order.accession)
            )
            self.report(
                f"worklist: {order.accession} "
                + ("found" if found[order.accession] else "NOT returned by the worklist")
            )
        runs = [StepRun(step) for step in scenario.steps]
        timeline = sorted(
            [(s.start, 0, s.number) for s in scenario.steps]
            + [(s.start + s.duration, 1, s.number) for s in scenario.steps]
        )
        for offset, phase, number in timeline:
            run = runs[number - 1]
            if run.error:
                continue
            self._wait_until(began, offset)
            try:
                if phase == 0:
                    self._start(run, found, total)
                else:
                    self._finish(run, total)
            except UserError as exc:
                run.error = str(exc)
                status = getattr(exc, "status", None)
                if phase == 0:
                    run.create_status = status
                else:
                    run.set_status = status
                self.report(f"step {number} of {total}: FAILED: {exc}")
        result = RunResult(runs, {a: item is not None for a, item in found.items()})
        result.verdicts = [_judge(e, result) for e in scenario.expectations]
        return result

    def _start(self, run: StepRun, found: dict[str, WorklistItem | None], total: int) -> None:
        step = run.step
        if step.order is not None:
            item = found[step.order.accession]
            if item is None:
                raise UserError(f"order {step.order.accession} is not on the worklist")
            summary = modality.start_step(
                self.db, self.station, self.node, items=[item], defer=False
            )
        else:
            p = step.patient
            summary = modality.start_step(
                self.db,
                self.station,
                self.node,
                patient=Patient(p.name, p.id, p.birth_date, p.sex),
                modality=step.modality,
                defer=False,
            )
        run.uid, run.create_status, run.final_status = (
            summary.sop_instance_uid,
            SUCCESS,
            IN_PROGRESS,
        )
        self.report(f"step {step.number} of {total}: started {run.uid} ({step.patient.name})")

    def _finish(self, run: StepRun, total: int) -> None:
        step = run.step
        if step.outcome == "in_progress":
            return
        if step.outcome == "completed":
            summary = modality.complete_step(
                self.db,
                self.station,
                self.node,
                run.uid,
                image_count=step.images,
                storage_node=self.storage_node,
                defer=False,
            )
        else:
            if step.images:
                modality.send_images(
                    self.db, self.station, self.storage_node, count=step.images, mpps_uid=run.uid
                )
            assert step.reason is not None
            summary = modality.discontinue_step(
                self.db, self.station, self.node, run.uid, step.reason, defer=False
            )
        run.set_status, run.final_status, run.images = SUCCESS, summary.status, summary.image_count
        self.report(
            f"step {step.number} of {total}: {summary.status.lower()}, "
            f"{summary.image_count} image(s) sent"
        )
        if step.commit:
            try:
                answer = modality.commit_step(
                    self.db, self.station, self.storage_node, run.uid, wait=COMMIT_WAIT_S
                )
            except PeerError as exc:
                run.committed = False
                self.report(f"step {step.number} of {total}: storage commitment failed: {exc}")
            else:
                run.committed = not answer.failed
                self.report(
                    f"step {step.number} of {total}: storage commitment: "
                    f"{len(answer.committed)} committed, {len(answer.failed)} failed"
                )


def _status_text(code: int | None) -> str:
    return "none" if code is None else f"0x{code:04X}"


def _judge(expectation: Expectation, result: RunResult) -> Verdict:
    e = expectation
    if e.what == "worklist":
        ok = result.found_orders.get(e.order or "", False)
        return Verdict(e, ok, "returned" if ok else "not returned")
    run = result.runs[(e.step or 1) - 1]
    if e.what == "create_status":
        return Verdict(e, run.create_status == e.status, _status_text(run.create_status))
    if e.what == "set_status":
        return Verdict(e, run.set_status == e.status, _status_text(run.set_status))
    if e.what == "final_status":
        return Verdict(e, run.final_status == e.status, run.final_status or "not started")
    if e.what == "images":
        return Verdict(e, run.images == e.count, str(run.images))
    committed = run.committed
    return Verdict(
        e, committed is True, {None: "not requested", True: "all", False: "failures"}[committed]
    )
