"""C-STORE into ``mppsconsole serve`` against pynetdicom's storescp app, DCMTK storescp and a
bare pynetdicom handler writing the received bytes.

Every receiver writes each image to disk and runs in its own process. The
sender sends the same generated CT slice with a new SOP Instance UID each time
(Explicit VR Little Endian) over one association per round: first this process
with pynetdicom and TCP_NODELAY (images/s from the first C-STORE to the last
response), then DCMTK storescu over the same images written as files (process
wall time), because a pynetdicom sender can be slower than the receivers.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage

from bench.common import (
    LOOPBACK,
    MPPSCONSOLE_AET,
    PYTHON,
    Child,
    Options,
    Table,
    alternate,
    dcmtk_env,
    dcmtk_tool,
    emit,
    free_port,
    ratio,
    remove_dir,
    say,
    start_peer,
    start_serve,
    temp_dir,
)
from bench.dicom import associate, ct_image, next_image, quiet_pynetdicom, scu_ae, status_of
from bench.peers import AET as PEER_AET
from mppsconsole.net.sockets import MAX_PDU_SIZE

STORESCU_TIMEOUT_S = 300
#: Maximum PDU lengths the receiver announces in the sweep: pynetdicom's default
#: (16 KiB) up to 1 MiB; MPPS Console's choice is net/sockets.py MAX_PDU_SIZE.
PDU_SIZES = [16_384, 65_536, MAX_PDU_SIZE, 262_144, 1_048_576]


def send_images(port: int, called: str, template: Dataset, count: int) -> float:
    """images/s of ``count`` C-STOREs over one association; RuntimeError on any failure."""
    ae = scu_ae(CTImageStorage)
    assoc = associate(ae, port, called)
    try:
        started = time.perf_counter()
        for number in range(1, count + 1):
            status = assoc.send_c_store(next_image(template, number))
            if status_of(status) != 0x0000:
                raise RuntimeError(f"C-STORE to {called} failed: {status}")
        elapsed = time.perf_counter() - started
    finally:
        if assoc.is_established:
            assoc.release()
    return count / elapsed


def _empty(folder: Path) -> None:
    """Remove what a round wrote (outside the timing), keeping the folder."""
    if folder.exists():
        for entry in folder.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def write_images(folder: Path, template: Dataset, count: int) -> list[Path]:
    """``count`` Part 10 files of the slice, each a new instance (for DCMTK storescu)."""
    folder.mkdir(parents=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"img{number:05d}.dcm"
        next_image(template, number).save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def storescu_rate(storescu: Path, port: int, called: str, files: list[Path]) -> float:
    """images/s of DCMTK storescu sending ``files`` over one association (process wall time)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(storescu), "-R", "-aet", "BENCH-SCU", "-aec", called, LOOPBACK, str(port)]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        env=dcmtk_env(),
        timeout=STORESCU_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"storescu to {called} failed: {done.stderr[-2000:]}")
    return len(files) / elapsed


def measure(
    target: tuple[int, str, Path],
    sender: str,
    template: Dataset,
    files: list[Path],
    count: int,
    storescu: Path | None,
) -> float:
    """One round into one receiver; what it wrote is removed afterwards (not timed)."""
    port, called, folder = target
    if sender == "pynetdicom":
        rate = send_images(port, called, template, count)
    else:
        assert storescu is not None
        rate = storescu_rate(storescu, port, called, files)
    _empty(folder)
    return rate


def pdu_sweep(opts: Options, storescu: Path, work: Path) -> Table:
    """512² CT from DCMTK storescu into the bare pynetdicom handler announcing each size.

    The receiver's maximum PDU length sets how many PDUs (and pynetdicom reads and
    P-DATA decodes) one image costs; the bare handler receives as serve's does.
    """
    count = opts.pick(150, 10)
    files = write_images(work / "files-pdu", ct_image(512), count)
    peers: list[Child] = []
    measures: dict[str, Callable[[], float]] = {}
    try:
        for size in PDU_SIZES:
            folder = work / f"pdu-{size}"
            peer, port = start_peer("store", work, str(folder), "--max-pdu", str(size))
            peers.append(peer)
            measures[str(size)] = partial(
                measure, (port, PEER_AET, folder), "storescu", ct_image(512), files, count, storescu
            )
        say(f"store: max PDU sweep, {opts.rounds} rounds of {count} images per size")
        figures = alternate(opts.rounds, measures)
    finally:
        for peer in peers:
            peer.stop()
    default = figures[str(PDU_SIZES[0])]
    table = Table(
        "store: maximum PDU length the receiver announces, 512×512 CT from DCMTK storescu "
        f"into the bare pynetdicom handler, images/s (median [min–max] of {opts.rounds} rounds)",
        ["max PDU", "images/round", "images/s", "ratio to 16 KiB (pynetdicom's default)"],
    )
    for size in PDU_SIZES:
        label = f"{size // 1024} KiB" + (" (MPPS Console)" if size == MAX_PDU_SIZE else "")
        figure = figures[str(size)]
        table.rows.append(
            [label, str(count), figure.show("{:.0f}"), ratio(figure, default).show("{:.2f}")]
        )
    table.notes.append(
        "storescu sends PDUs up to what the receiver announces; each size's receiver is its "
        "own process; rounds alternate across sizes"
    )
    return table


def run(opts: Options) -> list[Table]:
    quiet_pynetdicom()
    work = temp_dir("store")
    sizes = [(512, opts.pick(150, 10)), (64, opts.pick(300, 20))]
    storescu = dcmtk_tool("storescu")
    senders = ["pynetdicom", "storescu"] if storescu is not None else ["pynetdicom"]
    headers = [
        "image",
        "images/round",
        "mppsconsole serve",
        "pynetdicom storescp app",
        "DCMTK storescp",
        "bare pynetdicom handler",
        "serve / app",
        "serve / DCMTK",
        "serve / bare",
    ]
    tables = {
        "pynetdicom": Table(
            "store: C-STORE of CT images over one association, images/s, sender pynetdicom "
            f"(in-process, TCP_NODELAY; median [min–max] of {opts.rounds} rounds)",
            list(headers),
        ),
        "storescu": Table(
            "store: the same with DCMTK storescu as the sender (a C++ sender, so that the "
            f"receiver is what limits; median [min–max] of {opts.rounds} rounds)",
            list(headers),
        ),
    }
    children: list[Child] = []
    try:
        serve, serve_port = start_serve(work / "serve")
        children.append(serve)
        app_dir = work / "app-out"
        app_dir.mkdir()
        app_port = free_port()
        app = Child(
            [
                PYTHON,
                "-m",
                "pynetdicom",
                "storescp",
                str(app_port),
                "-aet",
                PEER_AET,
                "-ba",
                LOOPBACK,
                "-od",
                str(app_dir),
                "-q",
            ],
            log=work / "app.log",
        )
        children.append(app)
        app.wait_listening(app_port)
        bare_dir = work / "bare-out"
        bare, bare_port = start_peer("store", work, str(bare_dir))
        children.append(bare)
        targets: dict[str, tuple[int, str, Path]] = {
            "serve": (serve_port, MPPSCONSOLE_AET, work / "serve" / "images"),
            "app": (app_port, PEER_AET, app_dir),
            "bare": (bare_port, PEER_AET, bare_dir),
        }
        storescp = dcmtk_tool("storescp")
        if storescp is not None:
            dcmtk_dir = work / "dcmtk-out"
            dcmtk_dir.mkdir()
            dcmtk_port = free_port()
            dcmtk = Child(
                [str(storescp), "-aet", PEER_AET, "-od", str(dcmtk_dir), str(dcmtk_port)],
                log=work / "dcmtk.log",
                env=dcmtk_env(),
            )
            children.append(dcmtk)
            dcmtk.wait_listening(dcmtk_port)
            targets["dcmtk"] = (dcmtk_port, PEER_AET, dcmtk_dir)

        for size, count in sizes:
            template = ct_image(size)
            for port, called, _ in targets.values():  # warm-up: first association, imports
                send_images(port, called, template, 3)
            files = write_images(work / f"files-{size}", template, count) if storescu else []
            for sender in senders:
                say(f"store: {size}x{size} from {sender}, {opts.rounds} rounds of {count} images")
                measures: dict[str, Callable[[], float]] = {
                    name: partial(measure, targets[name], sender, template, files, count, storescu)
                    for name in targets
                }
                figures = alternate(opts.rounds, measures)
                serve_fig = figures["serve"]
                dcmtk_fig = figures.get("dcmtk")
                tables[sender].rows.append(
                    [
                        f"{size}×{size} 16-bit CT ({size * size * 2 // 1024} KiB)",
                        str(count),
                        serve_fig.show("{:.0f}"),
                        figures["app"].show("{:.0f}"),
                        dcmtk_fig.show("{:.0f}") if dcmtk_fig else "not installed",
                        figures["bare"].show("{:.0f}"),
                        ratio(serve_fig, figures["app"]).show("{:.2f}"),
                        ratio(serve_fig, dcmtk_fig).show("{:.2f}") if dcmtk_fig else "n/a",
                        ratio(serve_fig, figures["bare"]).show("{:.2f}"),
                    ]
                )
        sweep = pdu_sweep(opts, storescu, work) if storescu is not None else None
    finally:
        for child in children:
            child.stop()
        remove_dir(work)
    common_notes = [
        "every receiver writes each image to disk; pynetdicom storescp app: "
        "`python -m pynetdicom storescp PORT -od DIR` as shipped; DCMTK storescp 3.6 with "
        "TCP_NODELAY=1; bare handler: pynetdicom defaults + TCP_NODELAY, writing "
        "event.encoded_dataset() to a file",
        "DESIGN.md §6 bar: serve ≥ 1.6× the storescp app on 512² CT, ≥ 1.4× on 64² images",
    ]
    tables["pynetdicom"].notes += [
        "timed from the first C-STORE to the last response, association excluded; when all "
        "receivers come out close together, the sender is what limits",
        *common_notes,
    ]
    tables["storescu"].notes += [
        "storescu -R over the pre-written files, TCP_NODELAY=1; timed as the process's wall "
        "time (association and reading the files included)",
        *common_notes,
    ]
    return [emit(tables[sender]) for sender in senders] + ([emit(sweep)] if sweep else [])
