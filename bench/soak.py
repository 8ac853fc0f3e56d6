"""Soak: thousands of back-to-back MPPS steps against ``mppsconsole serve``, counting failures.

Each thread keeps one association and sends N-CREATE then N-SET COMPLETED for
its share of the steps, back to back. Counted:

* lost responses: a request that got no status back (pynetdicom's DIMSE timeout,
  after which it aborts the association);
* false failures: a non-success status for a valid request;
* aborted associations (the thread then associates again and goes on with a
  new step);
* pynetdicom's "Received unexpected ... service message" warnings: the
  requesting side's reactor taking a response meant for the requestor
  (DESIGN.md §5).

The same soak runs with MPPS Console's ``guard_responses`` on the SCU's
associations (what our modality side does) and without it (pynetdicom as
shipped), to show the bug and that the guard removes it.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from pynetdicom import AE
from pynetdicom.association import Association

from bench.common import (
    MPPSCONSOLE_AET,
    Options,
    Table,
    emit,
    remove_dir,
    running,
    say,
    start_serve,
    temp_dir,
)
from bench.dicom import (
    MPPS,
    associate,
    mpps_complete,
    mpps_create,
    quiet_pynetdicom,
    scu_ae,
    status_of,
    uid,
)

#: A lost response costs this wait; a real answer takes milliseconds.
SOAK_DIMSE_TIMEOUT_S = 5


@dataclasses.dataclass
class Counts:
    steps: int = 0
    completed: int = 0
    lost: int = 0
    false_failures: int = 0
    aborted: int = 0
    refused_associations: int = 0
    unexpected: int = 0
    seconds: float = 0.0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def add(self, **changes: int) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, getattr(self, key) + value)


def _connect(ae: AE, port: int, guard: bool, counts: Counts) -> Association | None:
    for _ in range(3):
        try:
            return associate(ae, port, MPPSCONSOLE_AET, guard=guard)
        except RuntimeError:
            counts.add(refused_associations=1)
            time.sleep(0.2)
    return None


def _worker(ae: AE, port: int, guard: bool, steps: int, counts: Counts) -> None:
    create, complete = mpps_create(), mpps_complete(images=4)
    assoc = _connect(ae, port, guard, counts)
    done = 0
    while assoc is not None and done < steps:
        done += 1
        step = uid()
        ok = True
        for send, ds in ((assoc.send_n_create, create), (assoc.send_n_set, complete)):
            status, _ = send(ds, MPPS, step)
            code = status_of(status)
            if code is None:
                counts.add(lost=1)
                ok = False
                break
            if code != 0x0000:
                counts.add(false_failures=1)
                ok = False
                break
        counts.add(steps=1, completed=1 if ok else 0)
        if not assoc.is_established:
            counts.add(aborted=1 if assoc.is_aborted else 0)
            assoc = _connect(ae, port, guard, counts)
    if assoc is not None and assoc.is_established:
        assoc.release()


def soak(ae: AE, port: int, *, threads: int, steps: int, guard: bool) -> Counts:
    counter = quiet_pynetdicom()
    before = counter.count
    counts = Counts()
    share = [steps // threads + (1 if i < steps % threads else 0) for i in range(threads)]
    workers = [
        threading.Thread(target=_worker, args=(ae, port, guard, n, counts), daemon=True)
        for n in share
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    limit = time.monotonic() + max(120.0, steps * 0.5)
    for worker in workers:
        worker.join(timeout=max(0.0, limit - time.monotonic()))
    if any(worker.is_alive() for worker in workers):
        raise RuntimeError(f"soak of {steps} steps on {threads} threads did not finish in time")
    counts.seconds = time.perf_counter() - started
    counts.unexpected = counter.count - before
    return counts


def run(opts: Options) -> list[Table]:
    quiet_pynetdicom()
    many = 50
    ae = scu_ae(MPPS)
    ae.dimse_timeout = SOAK_DIMSE_TIMEOUT_S
    ae.maximum_associations = 64
    patient = scu_ae(MPPS)  # 50 associations share two cores: answers may take seconds
    patient.maximum_associations = 64
    table = Table(
        "soak: MPPS steps against mppsconsole serve, lost and false-failed responses",
        [
            "SCU",
            "threads",
            "steps",
            "steps/s",
            "lost",
            "false failures",
            "aborted assoc.",
            "refused assoc.",
            "'unexpected' warnings",
        ],
    )
    plan = [
        ("guarded", ae, 1, opts.pick(10_000, 100), True),
        ("guarded", ae, 8, opts.pick(10_000, 150), True),
        ("pynetdicom as shipped", ae, 8, opts.pick(2_000, 200), False),
        ("guarded", patient, many, many * opts.pick(10, 1), True),
    ]
    work = temp_dir("soak")
    try:
        serve, port = start_serve(work / "serve")
        with running(serve):
            for label, scu, threads, count, guard in plan:
                say(f"soak: {label}, {threads} thread(s), {count} steps")
                result = soak(scu, port, threads=threads, steps=count, guard=guard)
                table.rows.append(
                    [
                        label,
                        str(threads),
                        str(result.steps),
                        f"{result.steps / result.seconds:.1f}",
                        str(result.lost),
                        str(result.false_failures),
                        str(result.aborted),
                        str(result.refused_associations),
                        str(result.unexpected),
                    ]
                )
    finally:
        remove_dir(work)
    table.notes += [
        "guarded: mppsconsole.net.reactor_guard.guard_responses applied to each SCU association "
        "(as MPPS Console's modality side does); pynetdicom as shipped: not applied",
        f"a lost response costs the DIMSE timeout ({SOAK_DIMSE_TIMEOUT_S} s; 10 s with 50 "
        "threads) and an abort; the thread then associates again and starts a new step",
        "DESIGN.md §6 bar: zero lost or false-failed responses in 10,000 steps; "
        "50 concurrent associations without a refused or lost message",
    ]
    return [emit(table)]
