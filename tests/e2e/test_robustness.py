"""``serve`` against peers that misbehave, many peers at once, and ``kill -9``.

After every bad peer the server must still answer DCMTK's echoscu and a normal
MPPS N-CREATE + N-SET, and a message that never arrived whole must leave no
trace. A Success answer means the step is durably stored (DESIGN.md §2): it
survives ``kill -9`` of the server, also under load.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, steps_json

BadPeer = Callable[[int], str | None]
"""Misbehaves against the port; returns the SOP Instance UID it half-sent, if any."""


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _send_then_close(
    data: bytes, *, reset: bool = False, linger: float = 0.0, refused: bool = False
) -> BadPeer:
    """Send ``data``, wait ``linger`` s, close; ``refused``: no A-ASSOCIATE-AC may come back."""

    def misbehave(port: int) -> None:
        sock = peer.raw_connection(port)
        try:
            if data:
                sock.sendall(data)
            if refused:
                sock.settimeout(linger or 1.0)
                try:
                    answer = sock.recv(6)
                except TimeoutError:
                    answer = b""  # still waiting for the rest of the PDU
                assert answer[:1] in (b"", b"\x03", b"\x07"), f"answered {answer!r}"
            elif linger:
                time.sleep(linger)
        finally:
            if reset:
                _reset(sock)
            else:
                sock.close()

    return misbehave


def _garbage(seed: int) -> bytes:
    rng = random.Random(seed)
    return rng.randbytes(rng.randint(1, 4000))


def _with_length(pdu: bytes, length: int) -> bytes:
    """``pdu`` with its PDU-length field replaced."""
    return pdu[:2] + struct.pack(">L", length) + pdu[6:]


def _absurd_item_length(pdu: bytes, item_type: int) -> bytes:
    """``pdu`` with the first variable item of ``item_type`` claiming 65535 bytes."""
    at = pdu.index(bytes([item_type, 0]), 74)
    return pdu[: at + 2] + b"\xff\xff" + pdu[at + 4 :]


def _established(port: int) -> socket.socket:
    """A raw connection with an accepted association (MPPS as presentation context 1)."""
    sock = peer.raw_connection(port)
    sock.sendall(peer.associate_rq_pdu())
    pdu_type, _ = peer.recv_pdu(sock)
    assert pdu_type == 0x02, f"A-ASSOCIATE-AC expected, got PDU type {pdu_type:#x}"
    return sock


def _in_association(data: Callable[[], bytes], *, reset: bool = False) -> BadPeer:
    def misbehave(port: int) -> None:
        sock = _established(port)
        try:
            sock.sendall(data())
            time.sleep(0.05)
        finally:
            if reset:
                _reset(sock)
            else:
                sock.close()

    return misbehave


def _abandoned_n_create(*, dataset_part: float, end: str) -> BadPeer:
    """Start an N-CREATE, stop inside it, then ``end`` ("close", "reset" or "abort")."""

    def misbehave(port: int) -> str:
        uid = peer.new_uid()
        sock = _established(port)
        try:
            command = peer.n_create_command(uid)
            if dataset_part == 0:
                half = len(command) // 2
                sock.sendall(peer.p_data_pdu(command[:half], command=True, last=False))
            else:
                sock.sendall(peer.p_data_pdu(command, command=True, last=True))
                dataset = peer.n_create_dataset_bytes()
                cut = int(len(dataset) * dataset_part)
                sock.sendall(peer.p_data_pdu(dataset[:cut], command=False, last=False))
            time.sleep(0.05)
            if end == "abort":
                sock.sendall(peer.a_abort_pdu())
                time.sleep(0.05)
        finally:
            if end == "reset":
                _reset(sock)
            else:
                sock.close()
        return uid

    return misbehave


BAD_PEERS: dict[str, BadPeer] = {
    "connects, sends nothing, closes": _send_then_close(b""),
    "connects, waits, resets": _send_then_close(b"", reset=True, linger=0.2),
    "garbage 1": _send_then_close(_garbage(1)),
    "garbage 2": _send_then_close(_garbage(2)),
    "garbage 3, reset": _send_then_close(_garbage(3), reset=True),
    "garbage with an A-ASSOCIATE-RQ header": _send_then_close(
        b"\x01\x00\x00\x00\x01\x00" + _garbage(4)[:256]
    ),
    "HTTP request": _send_then_close(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", linger=0.3, refused=True
    ),
    "A-ASSOCIATE-RQ to another called AE": _send_then_close(
        peer.associate_rq_pdu(called="SOMEONE-ELSE"), linger=1.0, refused=True
    ),
    "A-ASSOCIATE-RQ cut after 3 bytes": _send_then_close(peer.associate_rq_pdu()[:3]),
    "A-ASSOCIATE-RQ cut after 40 bytes": _send_then_close(peer.associate_rq_pdu()[:40]),
    "A-ASSOCIATE-RQ cut in a context item": _send_then_close(
        peer.associate_rq_pdu()[:120], linger=0.2
    ),
    "A-ASSOCIATE-RQ cut, reset": _send_then_close(peer.associate_rq_pdu()[:90], reset=True),
    "A-ASSOCIATE-RQ claiming 4 GiB": _send_then_close(
        _with_length(peer.associate_rq_pdu(), 0xFFFFFFFF), linger=0.3, refused=True
    ),
    "A-ASSOCIATE-RQ claiming 10 bytes": _send_then_close(
        _with_length(peer.associate_rq_pdu(), 10), linger=0.3, refused=True
    ),
    "A-ASSOCIATE-RQ with a 64 KiB context item": _send_then_close(
        _absurd_item_length(peer.associate_rq_pdu(), 0x20), linger=0.3, refused=True
    ),
    "A-ASSOCIATE-RQ with a 64 KiB user information item": _send_then_close(
        _absurd_item_length(peer.associate_rq_pdu(), 0x50), linger=0.3, refused=True
    ),
    "P-DATA-TF claiming 4 GiB": _in_association(
        lambda: _with_length(
            peer.p_data_pdu(peer.n_create_command(peer.new_uid()), command=True, last=True),
            0xFFFFFFFF,
        )
    ),
    "PDV longer than its P-DATA-TF": _in_association(
        lambda: peer.pdu(0x04, struct.pack(">LBB", 0x7FFFFFFF, 1, 3) + bytes(16))
    ),
    "unknown PDU type in an association": _in_association(lambda: b"\x09\x00\x00\x00\x00\x02ab"),
    "N-CREATE command cut, close": _abandoned_n_create(dataset_part=0, end="close"),
    "N-CREATE data set cut, close": _abandoned_n_create(dataset_part=0.5, end="close"),
    "N-CREATE data set cut, reset": _abandoned_n_create(dataset_part=0.3, end="reset"),
    "N-CREATE data set cut, A-ABORT": _abandoned_n_create(dataset_part=0.7, end="abort"),
    "N-CREATE command cut, A-ABORT": _abandoned_n_create(dataset_part=0, end="abort"),
}


@pytest.fixture(scope="module")
def shared_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrainedServe]:
    """One server for the whole bad-peer matrix (each case checks it is still healthy)."""
    process = DrainedServe(tmp_path_factory.mktemp("robust") / "data")
    yield process
    process.stop()


@pytest.mark.parametrize("case", list(BAD_PEERS))
def test_server_survives_bad_peer(shared_serve: DrainedServe, case: str) -> None:
    port = shared_serve.port
    half_sent = BAD_PEERS[case](port)

    assert shared_serve.proc.poll() is None, shared_serve.stderr_so_far
    echo = peer.echoscu(port)
    assert echo.returncode == 0, echo.stdout + echo.stderr
    good = peer.new_uid()
    assert peer.run_step(port, good) == (peer.SUCCESS, peer.SUCCESS)

    if half_sent is not None:
        stored = {s["sop_instance_uid"]: s["status"] for s in steps_json(shared_serve.data_dir)}
        assert stored[good] == "COMPLETED"
        assert half_sent not in stored, "a message that never arrived whole left a step"
        assert half_sent not in shared_serve.stderr_so_far, "the server logged it as received"
    assert "Traceback" not in shared_serve.stderr_so_far


# --- many peers at once --------------------------------------------------------------

CONCURRENT = 50


def test_fifty_concurrent_associations(serve: DrainedServe) -> None:
    start = threading.Barrier(CONCURRENT, timeout=60)
    results: dict[str, tuple[int | None, int | None] | str] = {}

    def modality(uid: str) -> None:
        try:
            start.wait()
            results[uid] = peer.run_step(serve.port, uid)
        except Exception as exc:  # reported below, with every other thread's result
            results[uid] = repr(exc)

    uids = [peer.new_uid() for _ in range(CONCURRENT)]
    threads = [threading.Thread(target=modality, args=(uid,), daemon=True) for uid in uids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a modality thread hung"

    failed = {uid: r for uid, r in results.items() if r != (peer.SUCCESS, peer.SUCCESS)}
    assert not failed, failed
    assert len(results) == CONCURRENT
    stored = steps_json(serve.data_dir)
    assert sorted(s["sop_instance_uid"] for s in stored) == sorted(uids)
    assert {s["status"] for s in stored} == {"COMPLETED"}
    assert "Traceback" not in serve.stderr_so_far


# --- kill -9 -------------------------------------------------------------------------


def restarted(data_dir: Path) -> DrainedServe:
    return DrainedServe(data_dir)


def test_kill9_keeps_every_acknowledged_step(serve: DrainedServe) -> None:
    completed = [peer.new_uid() for _ in range(30)]
    running = [peer.new_uid() for _ in range(5)]
    assoc = peer.associate(serve.port)
    try:
        for uid in completed:
            assert peer.create_step(assoc, uid) == peer.SUCCESS
            assert peer.complete_step(assoc, uid) == peer.SUCCESS
        for uid in running:
            assert peer.create_step(assoc, uid) == peer.SUCCESS
        serve.kill9()  # right after the last Success, with the association still open
    finally:
        peer.drop(assoc)

    again = restarted(serve.data_dir)
    try:
        stored = {s["sop_instance_uid"]: s for s in steps_json(serve.data_dir)}
        assert {uid: stored[uid]["status"] for uid in completed} == dict.fromkeys(
            completed, "COMPLETED"
        )
        assert {uid: stored[uid]["status"] for uid in running} == dict.fromkeys(
            running, "IN PROGRESS"
        )
        assert all(stored[uid]["image_count"] == 2 for uid in completed)
        # the restarted server knows them: a final step refuses updates, a running one completes
        assoc = peer.associate(again.port)
        try:
            assert peer.complete_step(assoc, completed[-1]) == 0x0110
            assert peer.complete_step(assoc, running[0]) == peer.SUCCESS
        finally:
            assoc.release()
    finally:
        code, err = again.stop()
    assert code == 0, err


def test_kill9_under_load_keeps_every_acknowledged_step(serve: DrainedServe) -> None:
    created: set[str] = set()
    completed: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def modality() -> None:
        """Steps until the server dies; only a Success status counts as acknowledged."""
        try:
            assoc = peer.associate(serve.port)
        except Exception:
            return
        try:
            while not stop.is_set():
                uid = peer.new_uid()
                if peer.create_step(assoc, uid) != peer.SUCCESS:
                    return
                with lock:
                    created.add(uid)
                if peer.complete_step(assoc, uid) != peer.SUCCESS:
                    return
                with lock:
                    completed.add(uid)
        except Exception:
            return  # the server was killed under this association
        finally:
            peer.drop(assoc)

    threads = [threading.Thread(target=modality, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if len(completed) >= 40:
                break
        time.sleep(0.02)
    alive = sum(thread.is_alive() for thread in threads)
    serve.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a modality thread hung"
    assert alive == len(threads), "the load had stopped before the kill"
    assert len(completed) >= 40

    again = restarted(serve.data_dir)
    try:
        stored = {s["sop_instance_uid"]: s["status"] for s in steps_json(serve.data_dir)}
    finally:
        code, err = again.stop()
    assert code == 0, err
    lost = created - set(stored)
    assert not lost, f"{len(lost)} acknowledged N-CREATE(s) lost"
    not_final = {uid: stored[uid] for uid in completed if stored[uid] != "COMPLETED"}
    assert not not_final, f"acknowledged N-SET(s) lost: {not_final}"
