"""Independent peers and the modality-side harness for tests/network/test_modality_*.py.

The code under test is the modality side (SCU). Its peers here are written
without it: DCMTK ``wlmscpfs`` and ``storescp`` as processes, and a minimal
pynetdicom SCP (:class:`RecordingScp`) that keeps every MPPS and storage
request it receives and can be told to refuse. :class:`Modality` is the SCU
side: its own data folder and settings file, the CLI run in-process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    Verification,
)
from pynetdicom.transport import ThreadedAssociationServer

from mppsconsole import cli
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, dcmtk, dcmtk_env

#: Every wait of a test is bounded by this many seconds.
BOUND = 10.0
#: The calling AE title of the modality under test (its settings file says so).
MODALITY_AE = "MODALITY1"
STATION_NAME = "CT01"
LOCATION = "Radiology 1"
OPERATOR = "Tech^Tina"
PROGRESS = re.compile(r"sending image \d+/\d+")


# --------------------------------------------------------------------- processes


def free_port() -> int:
    """A port nobody listens on right now (the peer binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    """True when some socket listens on ``port`` (read from /proc: no probe connection)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


class DcmtkServer:
    """A DCMTK server process on a free port; output kept in a log file."""

    def __init__(self, tool: str, args: Sequence[str], log: Path) -> None:
        self.log = log
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            with open(log, "w") as out:
                self.proc = subprocess.Popen(
                    [dcmtk(tool), *args, str(self.port)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=dcmtk_env(),
                )
            deadline = time.monotonic() + BOUND
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _listening(self.port):
                    return
                time.sleep(0.02)
            self.stop()
        raise AssertionError(f"{tool} did not start:\n{self.output}")

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=BOUND)


@contextlib.contextmanager
def wlmscpfs(root: Path) -> Iterator[DcmtkServer]:
    """DCMTK's worklist SCP serving ``root/<called AE>/*.wl``."""
    server = DcmtkServer("wlmscpfs", ["-dfp", str(root)], root.parent / "wlmscpfs.log")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def storescp(out_dir: Path) -> Iterator[DcmtkServer]:
    """DCMTK's storage SCP accepting every transfer syntax, one file per instance."""
    out_dir.mkdir(parents=True, exist_ok=True)
    server = DcmtkServer(
        "storescp", ["-od", str(out_dir), "+xa"], out_dir.parent / f"{out_dir.name}.log"
    )
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------- worklist files


@dataclasses.dataclass(frozen=True)
class Order:
    """One worklist entry as a RIS would hold it (written as a wlmscpfs .wl file)."""

    accession: str
    patient_name: str
    patient_id: str
    modality: str
    station_ae: str
    date: str
    time: str = "090000"
    birth_date: str = "19700101"
    sex: str = "F"
    description: str = "Requested procedure"
    step_description: str = "Scheduled step"
    rp_id: str = ""
    sps_id: str = ""
    study_uid: str = dataclasses.field(default_factory=generate_uid)
    protocol: tuple[str, str, str] = ("P-001", "99RIS", "Routine protocol")

    @property
    def requested_procedure_id(self) -> str:
        return self.rp_id or f"RP-{self.accession}"

    @property
    def scheduled_step_id(self) -> str:
        return self.sps_id or f"SPS-{self.accession}"

    def dataset(self) -> Dataset:
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.AccessionNumber = self.accession
        ds.ReferringPhysicianName = "Referrer^Rita"
        ds.PatientName = self.patient_name
        ds.PatientID = self.patient_id
        ds.PatientBirthDate = self.birth_date
        ds.PatientSex = self.sex
        ds.StudyInstanceUID = self.study_uid
        ds.RequestedProcedureID = self.requested_procedure_id
        ds.RequestedProcedureDescription = self.description
        ds.RequestedProcedurePriority = "ROUTINE"
        ds.ReferencedStudySequence = DicomSequence()
        ds.ReferencedPatientSequence = DicomSequence()
        sps = Dataset()
        sps.Modality = self.modality
        sps.ScheduledStationAETitle = self.station_ae
        sps.ScheduledProcedureStepStartDate = self.date
        sps.ScheduledProcedureStepStartTime = self.time
        sps.ScheduledPerformingPhysicianName = ""
        sps.ScheduledProcedureStepDescription = self.step_description
        sps.ScheduledProcedureStepID = self.scheduled_step_id
        sps.ScheduledProcedureStepStatus = "SCHEDULED"
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = self.protocol
        sps.ScheduledProtocolCodeSequence = DicomSequence([code])
        ds.ScheduledProcedureStepSequence = DicomSequence([sps])
        return ds


def write_worklist(root: Path, called_ae: str, orders: Sequence[Order]) -> Path:
    """The wlmscpfs data folder for ``called_ae``: one Part 10 ``.wl`` file per order."""
    folder = root / called_ae
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lockfile").touch()
    for number, order in enumerate(orders, start=1):
        ds = order.dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ModalityWorklistInformationFind
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(folder / f"item{number:02d}.wl", enforce_file_format=True)
    return folder


# ------------------------------------------------------------- a recording SCP


@dataclasses.dataclass(frozen=True)
class Received:
    """One request the recording SCP got: the instance it names and its dataset."""

    command: str
    sop_instance_uid: str
    calling_ae: str
    dataset: Dataset


class RecordingScp:
    """A minimal pynetdicom MPPS + storage SCP that records what it receives.

    ``create_failure`` / ``set_failure`` / ``store_failure`` = (status, error
    comment) makes it refuse every N-CREATE / N-SET / C-STORE with that status
    (a refused C-STORE is not recorded). The called AE title must
    be :attr:`ae_title`, so a wrong one is rejected.
    """

    ae_title = "RECORDER"

    def __init__(self) -> None:
        self.creates: list[Received] = []
        self.sets: list[Received] = []
        self.stored: list[Received] = []
        self.create_failure: tuple[int, str] | None = None
        self.set_failure: tuple[int, str] | None = None
        self.store_failure: tuple[int, str] | None = None
        ae = AE(ae_title=self.ae_title)
        ae.require_called_aet = True
        ae.add_supported_context(ModalityPerformedProcedureStep)
        ae.add_supported_context(Verification)
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(
                cast(str, cx.abstract_syntax),
                [ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless],
            )
        self._server = cast(
            ThreadedAssociationServer,
            ae.start_server(
                (LOOPBACK, 0),
                block=False,
                evt_handlers=[
                    NODELAY_HANDLER,
                    (evt.EVT_N_CREATE, self._on_create),
                    (evt.EVT_N_SET, self._on_set),
                    (evt.EVT_C_STORE, self._on_store),
                ],
            ),
        )
        self.port = int(self._server.server_address[1])

    def reset(self) -> None:
        """Forget what was received and answer Success again (one peer serves many tests)."""
        self.creates.clear()
        self.sets.clear()
        self.stored.clear()
        self.create_failure = self.set_failure = self.store_failure = None

    def stop(self) -> None:
        self._server.shutdown()

    @staticmethod
    def _status(failure: tuple[int, str] | None) -> Dataset:
        status = Dataset()
        status.Status = failure[0] if failure else 0x0000
        if failure and failure[1]:
            status.ErrorComment = failure[1]
        return status

    def _on_create(self, event: Event) -> tuple[Dataset, Dataset | None]:
        ds = event.attribute_list
        uid = str(event.request.AffectedSOPInstanceUID)
        self.creates.append(Received("N-CREATE", uid, event.assoc.requestor.ae_title, ds))
        status = self._status(self.create_failure)
        return status, (None if self.create_failure else ds)

    def _on_set(self, event: Event) -> tuple[Dataset, Dataset | None]:
        ds = event.modification_list
        uid = str(event.request.RequestedSOPInstanceUID)
        self.sets.append(Received("N-SET", uid, event.assoc.requestor.ae_title, ds))
        status = self._status(self.set_failure)
        return status, (None if self.set_failure else ds)

    def _on_store(self, event: Event) -> Dataset:
        ds = event.dataset
        if self.store_failure is None:
            self.stored.append(
                Received("C-STORE", str(ds.SOPInstanceUID), event.assoc.requestor.ae_title, ds)
            )
        return self._status(self.store_failure)

    def node_toml(self, name: str = "recorder") -> str:
        return node_toml(name, self.ae_title, self.port)

    @property
    def to(self) -> tuple[str, ...]:
        """``--to HOST:PORT --aec AE`` for this peer."""
        return ("--to", f"{LOOPBACK}:{self.port}", "--aec", self.ae_title)


@contextlib.contextmanager
def recording_scp() -> Iterator[RecordingScp]:
    peer = RecordingScp()
    try:
        yield peer
    finally:
        peer.stop()


@contextlib.contextmanager
def verification_only_scp() -> Iterator[int]:
    """A pynetdicom SCP that accepts associations for C-ECHO only; its port."""
    ae = AE(ae_title="ECHOONLY")
    ae.add_supported_context(Verification)
    server = cast(
        ThreadedAssociationServer,
        ae.start_server((LOOPBACK, 0), block=False, evt_handlers=[NODELAY_HANDLER]),
    )
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()


@contextlib.contextmanager
def silent_peer() -> Iterator[int]:
    """Listens but never answers (connections wait in the backlog); its port."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


@contextlib.contextmanager
def hanging_up_peer() -> Iterator[int]:
    """Reads each A-ASSOCIATE-RQ, then closes the connection without an answer; its port.

    The whole request is read first: closing with unread data would send a TCP
    reset instead of a FIN, and pynetdicom 3.0.4 then drops its socket without
    closing it (a ResourceWarning, an error under this suite's settings).
    """
    stop = threading.Event()
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    sock.listen(8)
    sock.settimeout(0.05)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(BOUND)
                header = _read_exactly(conn, 6)
                if len(header) == 6:
                    _read_exactly(conn, int.from_bytes(header[2:], "big"))

    thread = threading.Thread(target=serve, name="hanging-up-peer", daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(BOUND)
        sock.close()


# ------------------------------------------------------------ the modality (SCU)


def node_toml(name: str, ae_title: str, port: int) -> str:
    """A ``[[nodes]]`` table of the settings file."""
    return (
        f'[[nodes]]\nname = "{name}"\nae_title = "{ae_title}"\nhost = "{LOOPBACK}"\nport = {port}\n'
    )


@dataclasses.dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)

    def assert_one_line_error(self, code: int, *fragments: str) -> str:
        """Exit ``code`` and exactly one ``mppsconsole: error:`` line holding ``fragments``.

        Progress lines (``sending image 1/2``) may come before it.
        """
        lines = [line for line in self.stderr.splitlines() if not PROGRESS.fullmatch(line)]
        assert self.code == code, f"exit {self.code}, stderr:\n{self.stderr}"
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1, f"expected one stderr line:\n{self.stderr}"
        assert lines[0].startswith("mppsconsole: error: "), lines[0]
        for fragment in fragments:
            assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
        return lines[0]


def run_in_process(args: Sequence[str]) -> CliResult:
    """``mppsconsole ARGS`` through :func:`cli.main` in this process.

    ``main`` reconfigures the root logger for the command; the test process's
    handlers and levels are put back afterwards and the command's are closed.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    pynetdicom_logger = logging.getLogger("pynetdicom")
    saved_pynetdicom = pynetdicom_logger.level
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in saved_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)
        pynetdicom_logger.setLevel(saved_pynetdicom)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_process(args: Sequence[str], timeout: float = 60) -> CliResult:
    """``python -m mppsconsole ARGS`` as its own process (exit status and stderr as users see)."""
    result = subprocess.run(
        [sys.executable, "-m", "mppsconsole", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(result.returncode, result.stdout, result.stderr)


class Modality:
    """The modality under test: its own data folder and settings, commands run in-process."""

    def __init__(self, root: Path, nodes: str = "") -> None:
        self.data_dir = root / "modality-data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = root / "modality.toml"
        self.configure(nodes)

    def configure(self, nodes: str = "") -> None:
        """Write the settings file: our identity, and ``nodes`` ([[nodes]] tables)."""
        self.config.write_text(
            f'[local]\nae_title = "{MODALITY_AE}"\nbind_address = "{LOOPBACK}"\n'
            f'durability = "normal"\n\n'
            f'[modality]\nstation_name = "{STATION_NAME}"\nlocation = "{LOCATION}"\n'
            f'operator = "{OPERATOR}"\n\n{nodes}',
            encoding="utf-8",
        )

    def args(self, *args: str) -> list[str]:
        return [*args, "--data-dir", str(self.data_dir), "--config", str(self.config)]

    def run(self, *args: str) -> CliResult:
        return run_in_process(self.args(*args))

    def run_process(self, *args: str) -> CliResult:
        return run_process(self.args(*args))

    def ok(self, *args: str) -> CliResult:
        result = self.run(*args)
        assert result.code == 0, f"{args} exit {result.code}:\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def steps(self) -> list[dict[str, Any]]:
        data = self.ok("steps", "list", "--json").json()
        assert isinstance(data, list)
        return data

    def step(self, uid: str) -> dict[str, Any]:
        data = self.ok("steps", "show", uid, "--json").json()
        assert isinstance(data, dict)
        return data

    @contextlib.contextmanager
    def database(self) -> Iterator[Database]:
        db = Database(self.data_dir / "mppsconsole.sqlite3")
        try:
            yield db
        finally:
            db.close()


def dataset_files(folder: Path) -> list[Path]:
    """Regular files under ``folder`` (what a storage SCP wrote)."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def wait_until(predicate: Any, timeout: float = BOUND) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def require(path: str) -> None:
    if not os.path.exists(path):
        pytest.fail(f"{path} missing (install dcmtk / dicom3tools)")
