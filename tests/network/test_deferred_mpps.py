"""Deferred MPPS (issue #7 item 4): queue while the destination is down, send in order later.

The destination is real: a loopback port nobody listens on, then our own
DepartmentServer started on that very port (or a pynetdicom peer that drops
the association after taking an N-CREATE).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.events import Event
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]

from mppsconsole.core.codes import discontinuation_reason
from mppsconsole.core.errors import PeerError
from mppsconsole.core.settings import Node, Settings
from mppsconsole.core.step import RECEIVED, SENT
from mppsconsole.net import association, deferred
from mppsconsole.net.deferred import Backoff, DeferredSender
from mppsconsole.net.modality import complete_step, discontinue_step, start_step
from mppsconsole.net.server import DepartmentServer
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import outbox, steps
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK
from tests.network.peers import (
    BOUND,
    Modality,
    RecordingScp,
    free_port,
    node_toml,
    recording_scp,
    wait_until,
)

FAST = Backoff(first=0.05, cap=0.2, jitter=0.1)
PATIENT = Patient("Defer^Dora", "PID-DEF")
STATION = Workstation.from_settings(Settings(ae_title="MODALITY1"))


@pytest.fixture
def modality_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "modality" / "mppsconsole.sqlite3")
    yield db
    db.close()


@contextlib.contextmanager
def department(tmp_path: Path, port: int) -> Iterator[Database]:
    """Our own SCP listening on ``port`` (the destination coming back); its database."""
    db = Database(tmp_path / "ris" / "mppsconsole.sqlite3")
    server = DepartmentServer(db, Settings(bind_address=LOOPBACK), tmp_path / "ris" / "images")
    server.start(LOOPBACK, port)
    try:
        yield db
    finally:
        server.stop()
        db.close()


def waiting(db: Database) -> list[outbox.Deferred]:
    with db.reading() as conn:
        return outbox.open_messages(conn)


def received_history(db: Database, uid: str) -> list[tuple[str, int]]:
    with db.reading() as conn:
        return [(m.command, m.status) for m in steps.messages(conn, uid, RECEIVED)]


def sent_history(db: Database, uid: str) -> list[tuple[str, int]]:
    with db.reading() as conn:
        return [(m.command, m.status) for m in steps.messages(conn, uid, SENT)]


def test_queued_while_down_then_sent_in_order_exactly_once(
    tmp_path: Path, modality_db: Database
) -> None:
    port = free_port()
    node = Node("ris", "MPPSCONSOLE", LOOPBACK, port)

    started = start_step(modality_db, STATION, node, patient=PATIENT, modality="CT")
    uid = started.sop_instance_uid
    completed = complete_step(modality_db, STATION, node, uid, image_count=0)

    # Kept and shown locally, not lost: the step is COMPLETED here, both messages wait.
    assert completed.status == "COMPLETED"
    with modality_db.reading() as conn:
        stored = steps.get(conn, uid, SENT)
        assert outbox.deferred_steps(conn) == {uid}
    assert stored is not None and stored.summary.status == "COMPLETED"
    queued = waiting(modality_db)
    assert [(m.kind, m.seq) for m in queued] == [("N-CREATE", 1), ("N-SET", 2)]
    assert "connection refused" in queued[0].last_error
    assert queued[0].attempts == 1 and queued[1].attempts == 0
    assert sent_history(modality_db, uid) == []

    # Still down: an attempt reschedules with back-off, the N-SET never goes first.
    deferred.retry_now(modality_db)
    tried = deferred.flush(modality_db, FAST)
    assert [(a.message.kind, a.outcome) for a in tried] == [("N-CREATE", deferred.WAITING)]
    assert [m.attempts for m in waiting(modality_db)] == [2, 0]

    with department(tmp_path, port) as ris_db:
        sender = DeferredSender(modality_db, backoff=FAST)
        sender.start()
        try:
            deferred.retry_now(modality_db)
            sender.wake()
            assert wait_until(lambda: not waiting(modality_db))
        finally:
            sender.stop()
        assert received_history(ris_db, uid) == [("N-CREATE", 0), ("N-SET", 0)]
        with ris_db.reading() as conn:
            received = steps.get(conn, uid, RECEIVED)
        assert received is not None and received.summary.status == "COMPLETED"
    assert sent_history(modality_db, uid) == [("N-CREATE", 0), ("N-SET", 0)]
    with modality_db.reading() as conn:
        assert outbox.deferred_steps(conn) == set()


def test_a_refusal_is_a_real_answer_not_deferred(
    modality_db: Database, recorder_peer: RecordingScp
) -> None:
    recorder_peer.reset()
    node = Node("rec", recorder_peer.ae_title, LOOPBACK, recorder_peer.port)
    recorder_peer.create_failure = (0x0110, "No thanks")
    with pytest.raises(PeerError, match="0x0110"):
        start_step(modality_db, STATION, node, patient=PATIENT, modality="CT")
    assert waiting(modality_db) == []
    with modality_db.reading() as conn:
        assert steps.list_steps(conn) == []

    recorder_peer.reset()
    uid = start_step(modality_db, STATION, node, patient=PATIENT, modality="CT").sop_instance_uid
    recorder_peer.set_failure = (0x0110, "Locked")
    with pytest.raises(PeerError, match="Locked"):
        discontinue_step(modality_db, STATION, node, uid, discontinuation_reason("110501"))
    assert waiting(modality_db) == []


@pytest.fixture(scope="module")
def recorder_peer() -> Iterator[RecordingScp]:
    with recording_scp() as peer:
        yield peer


def test_cancel_an_n_create_cancels_its_n_sets(tmp_path: Path, modality_db: Database) -> None:
    port = free_port()
    node = Node("ris", "MPPSCONSOLE", LOOPBACK, port)
    uid = start_step(modality_db, STATION, node, patient=PATIENT, modality="CT").sop_instance_uid
    discontinue_step(modality_db, STATION, node, uid, discontinuation_reason("110501"))
    other = start_step(modality_db, STATION, node, patient=PATIENT, modality="MR").sop_instance_uid
    create = next(m for m in waiting(modality_db) if m.step_uid == uid)
    assert create.kind == "N-CREATE"

    assert len(deferred.cancel(modality_db, create.id)) == 2
    assert [m.step_uid for m in waiting(modality_db)] == [other]
    assert deferred.cancel(modality_db, create.id) == []  # no longer waiting

    with department(tmp_path, port) as ris_db:
        deferred.retry_now(modality_db)
        deferred.flush(modality_db, FAST)
        assert received_history(ris_db, uid) == []
        assert received_history(ris_db, other) == [("N-CREATE", 0)]


def test_queue_survives_a_restart_and_the_cli_sends_it(tmp_path: Path) -> None:
    """Each command is its own process: the queue is in the database, not in memory."""
    port = free_port()
    modality = Modality(tmp_path, node_toml("ris", "MPPSCONSOLE", port))
    start = modality.run_process(
        "mpps", "start", "--to", "ris", "--defer", "--unscheduled",
        "--patient-name", "Defer^Dora", "--patient-id", "PID-DEF", "--modality", "CT",
    )  # fmt: skip
    assert start.code == 0, start.stderr
    uid = start.stdout.strip()
    assert "deferred" in start.stderr and uid in start.stderr
    done = modality.run_process("mpps", "complete", uid, "--to", "ris", "--images", "0")
    assert done.code == 0, done.stderr  # queued behind its N-CREATE, even without --defer

    listed = modality.run_process("mpps", "queue", "list", "--json").json()
    assert [(m["kind"], m["step_uid"]) for m in listed] == [("N-CREATE", uid), ("N-SET", uid)]
    assert modality.run_process("mpps", "queue", "retry").code == 1  # still down

    with department(tmp_path, port) as ris_db:
        retried = modality.run_process("mpps", "queue", "retry")
        assert retried.code == 0, retried.stderr
        assert received_history(ris_db, uid) == [("N-CREATE", 0), ("N-SET", 0)]
    assert modality.run_process("mpps", "queue", "list", "--json").json() == []
    (step,) = modality.steps()
    assert step["status"] == "COMPLETED"
    assert [m["status"] for m in modality.step(uid)["messages"]] == ["0x0000", "0x0000"]


def test_without_defer_an_unreachable_destination_still_fails(tmp_path: Path) -> None:
    modality = Modality(tmp_path, node_toml("ris", "MPPSCONSOLE", free_port()))
    result = modality.run(
        "mpps", "start", "--to", "ris", "--unscheduled",
        "--patient-name", "A^B", "--patient-id", "P", "--modality", "CT",
    )  # fmt: skip
    result.assert_one_line_error(1, "cannot connect")
    assert modality.steps() == []
    assert modality.run("mpps", "queue", "cancel", "99").code == 2


class DroppingPeer:
    """Takes each N-CREATE but answers the first one too late (the association is gone by
    then); a repeated N-CREATE of a known instance gets 0x0111, as PS3.4 says."""

    ae_title = "DROPPER"

    def __init__(self) -> None:
        self.creates: list[str] = []
        self.sets: list[str] = []
        self.release = threading.Event()
        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(ModalityPerformedProcedureStep)
        self._server = ae.start_server(
            (LOOPBACK, 0),
            block=False,
            evt_handlers=[
                NODELAY_HANDLER,
                (evt.EVT_N_CREATE, self._on_create),
                (evt.EVT_N_SET, self._on_set),
            ],
        )
        self.port = int(self._server.server_address[1])  # type: ignore[union-attr]

    def _on_create(self, event: Event) -> tuple[int, Dataset | None]:
        uid = str(event.request.AffectedSOPInstanceUID)
        known = uid in self.creates
        self.creates.append(uid)
        if known:
            return 0x0111, None
        self.release.wait(BOUND)  # past the requestor's DIMSE timeout
        return 0x0000, event.attribute_list

    def _on_set(self, event: Event) -> tuple[int, Dataset | None]:
        self.sets.append(str(event.request.RequestedSOPInstanceUID))
        return 0x0000, event.modification_list

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()  # type: ignore[union-attr]


def test_duplicate_after_a_dropped_n_create_counts_as_delivered(
    modality_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(association, "DIMSE_TIMEOUT", 0.5)
    peer = DroppingPeer()
    try:
        node = Node("drop", peer.ae_title, LOOPBACK, peer.port)
        uid = start_step(
            modality_db, STATION, node, patient=PATIENT, modality="CT"
        ).sop_instance_uid
        peer.release.set()
        (create,) = waiting(modality_db)
        assert create.maybe_delivered and "no response to N-CREATE" in create.last_error
        complete_step(modality_db, STATION, node, uid, image_count=0)

        deferred.retry_now(modality_db)
        tried = deferred.flush(modality_db, FAST)
        assert [(a.message.kind, a.outcome) for a in tried] == [
            ("N-CREATE", deferred.DELIVERED),
            ("N-SET", deferred.DELIVERED),
        ]
        assert peer.creates == [uid, uid] and peer.sets == [uid]
        assert sent_history(modality_db, uid) == [("N-CREATE", 0x0111), ("N-SET", 0)]
    finally:
        peer.stop()


def test_duplicate_is_a_refusal_when_the_n_create_certainly_never_left(
    tmp_path: Path, modality_db: Database
) -> None:
    """Without a possibly delivered attempt, 0x0111 is what it says (someone else's step)."""
    port = free_port()
    node = Node("ris", "MPPSCONSOLE", LOOPBACK, port)
    uid = start_step(modality_db, STATION, node, patient=PATIENT, modality="CT").sop_instance_uid
    (create,) = waiting(modality_db)
    assert not create.maybe_delivered
    with department(tmp_path, port) as ris_db:
        with modality_db.reading() as mine:
            ours = steps.get(mine, uid, SENT)
        assert ours is not None and ours.summary.start is not None
        with ris_db.transaction() as conn:
            theirs = dataclasses.replace(ours.summary, direction=RECEIVED)
            steps.save(conn, theirs, ours.dataset_json, "elsewhere", ours.summary.start)
        deferred.retry_now(modality_db)
        (attempt,) = deferred.flush(modality_db, FAST)
    assert attempt.outcome == deferred.REFUSED and "0x0111" in attempt.detail
    assert waiting(modality_db) == []


def test_serve_sends_the_queue_of_its_data_folder(tmp_path: Path) -> None:
    """``serve`` runs the retry worker: a queue left by the CLI drains without a command."""
    from tests.e2e.conftest import DrainedServe

    port = free_port()
    modality = Modality(tmp_path, node_toml("ris", "MPPSCONSOLE", port))
    start = modality.run(
        "mpps", "start", "--to", "ris", "--defer", "--unscheduled",
        "--patient-name", "Defer^Dora", "--patient-id", "PID-DEF", "--modality", "CT",
    )  # fmt: skip
    assert start.code == 0, start.stderr
    uid = start.stdout.strip()
    with department(tmp_path, port) as ris_db:
        serve = DrainedServe(modality.data_dir, modality.config)
        try:
            # First retry after the default back-off (5 s +/- 20 %), then a 5 s poll at most.
            assert wait_until(lambda: received_history(ris_db, uid) == [("N-CREATE", 0)], 30)
        finally:
            code, _ = serve.stop()
        assert code == 0
    assert modality.run("mpps", "queue", "list", "--json").json() == []
