"""MPPS N-CREATE + N-SET COMPLETED: ``mppsconsole serve`` against a bare in-memory pynetdicom SCP.

Both servers run in their own process with TCP_NODELAY; the SCU (this process)
sets TCP_NODELAY too and applies MPPS Console's guard against pynetdicom's lost
responses to both, so that the comparison is of the servers alone. A "step" is
one procedure step: N-CREATE (IN PROGRESS) then N-SET (COMPLETED, one series
of 20 image references).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

from pydicom.dataset import Dataset
from pynetdicom import AE

from bench.common import (
    MPPSCONSOLE_AET,
    Options,
    Table,
    alternate,
    emit,
    ratio,
    remove_dir,
    running,
    say,
    start_peer,
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
from bench.peers import AET as PEER_AET

CONCURRENT = 8


class Errors:
    """Non-success or missing responses seen by the SCU (there should be none)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def check(self, status: Dataset | None) -> None:
        if status_of(status) != 0x0000:
            with self.lock:
                self.count += 1


def one_step(assoc: object, create: Dataset, complete: Dataset, errors: Errors) -> None:
    step = uid()
    status, _ = assoc.send_n_create(create, MPPS, step)  # type: ignore[attr-defined]
    errors.check(status)
    status, _ = assoc.send_n_set(complete, MPPS, step)  # type: ignore[attr-defined]
    errors.check(status)


def run_single(ae: AE, port: int, called: str, steps: int, errors: Errors) -> float:
    create, complete = mpps_create(), mpps_complete()
    assoc = associate(ae, port, called)
    started = time.perf_counter()
    for _ in range(steps):
        one_step(assoc, create, complete, errors)
    elapsed = time.perf_counter() - started
    assoc.release()
    return steps / elapsed


def run_per_step(ae: AE, port: int, called: str, steps: int, errors: Errors) -> float:
    create, complete = mpps_create(), mpps_complete()
    started = time.perf_counter()
    for _ in range(steps):
        assoc = associate(ae, port, called)
        one_step(assoc, create, complete, errors)
        assoc.release()
    return steps / (time.perf_counter() - started)


def run_concurrent(ae: AE, port: int, called: str, steps: int, errors: Errors) -> float:
    """``CONCURRENT`` associations at once, each on its own thread, ``steps`` in all."""
    each = max(1, steps // CONCURRENT)
    associations = [associate(ae, port, called) for _ in range(CONCURRENT)]
    create, complete = mpps_create(), mpps_complete()
    gate = threading.Barrier(CONCURRENT + 1)

    def work(assoc: object) -> None:
        gate.wait(timeout=30)
        for _ in range(each):
            one_step(assoc, create, complete, errors)

    threads = [threading.Thread(target=work, args=(a,), daemon=True) for a in associations]
    for thread in threads:
        thread.start()
    gate.wait(timeout=30)
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
        if thread.is_alive():
            raise RuntimeError("an MPPS worker did not finish within 600 s")
    elapsed = time.perf_counter() - started
    for assoc in associations:
        assoc.release()
    return each * CONCURRENT / elapsed


Mode = Callable[[AE, int, str, int, Errors], float]


def run(opts: Options) -> list[Table]:
    quiet_pynetdicom()
    modes: list[tuple[str, Mode, int]] = [
        ("one association", run_single, opts.pick(200, 10)),
        ("association per step", run_per_step, opts.pick(60, 5)),
        (f"{CONCURRENT} concurrent associations", run_concurrent, opts.pick(320, 16)),
    ]
    rounds = opts.rounds
    ae = scu_ae(MPPS)
    ae.maximum_associations = 64
    work = temp_dir("mpps")
    table = Table(
        "mpps: N-CREATE + N-SET COMPLETED, procedure steps/s (median [min–max] of "
        f"{rounds} rounds)",
        ["mode", "steps/round", "mppsconsole serve", "bare pynetdicom SCP", "ratio"],
    )
    errors = {"serve": Errors(), "bare": Errors()}
    try:
        serve, serve_port = start_serve(work / "serve")
        peer, peer_port = start_peer("mpps", work)
        with running(serve), running(peer):
            # warm both up (imports, first association, SQLite pages)
            run_single(ae, serve_port, MPPSCONSOLE_AET, 3, Errors())
            run_single(ae, peer_port, PEER_AET, 3, Errors())
            for name, mode, steps in modes:
                say(f"mpps: {name}, {rounds} rounds of {steps} steps")
                figures = alternate(
                    rounds,
                    {
                        "serve": partial(
                            mode, ae, serve_port, MPPSCONSOLE_AET, steps, errors["serve"]
                        ),
                        "bare": partial(mode, ae, peer_port, PEER_AET, steps, errors["bare"]),
                    },
                )
                table.rows.append(
                    [
                        name,
                        str(steps),
                        figures["serve"].show(),
                        figures["bare"].show(),
                        ratio(figures["serve"], figures["bare"]).show("{:.2f}"),
                    ]
                )
    finally:
        remove_dir(work)
    table.notes.append(
        "ratio = contender/baseline per round (alternating rounds), median [min–max]; "
        "DESIGN.md §6 bar: ≥ 0.9 on one association, ≥ 0.8 with 8 concurrent associations"
    )
    table.notes.append(
        "serve commits every message to SQLite (its configured synchronous setting); "
        "the baseline keeps a dict in memory; both answer with the same attribute lists"
    )
    table.notes.append(
        f"non-success or missing responses: serve {errors['serve'].count}, "
        f"bare {errors['bare'].count}"
    )
    return [emit(table)]
