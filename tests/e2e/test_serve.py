"""``mppsconsole serve`` as a process: signals, the port, an independent DCMTK peer."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, run_cli, steps_json

#: SIGTERM must stop serve well before a service manager would send SIGKILL.
PROMPT_STOP_S = 8.0


def assert_port_free(port: int, data_dir: Path) -> None:
    """A new server can bind the port (what a restarted serve would do)."""
    process = DrainedServe(data_dir, None, "--port", str(port))
    try:
        assert process.port == port
        assert peer.echoscu(port).returncode == 0
    finally:
        code, err = process.stop()
    assert code == 0, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_serve_cleanly(data_dir: Path, signum: signal.Signals) -> None:
    process = DrainedServe(data_dir)
    try:
        port = process.port
        uid = peer.new_uid()
        assert peer.run_step(port, uid) == (peer.SUCCESS, peer.SUCCESS)
    finally:
        code, out, err = process.signal(signum)
    assert code == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
    assert_port_free(port, data_dir)
    assert [s["status"] for s in steps_json(data_dir)] == ["COMPLETED"]


@pytest.fixture
def loose_sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def test_sigterm_stops_serve_with_peers_connected(
    data_dir: Path, loose_sockets: list[socket.socket]
) -> None:
    """Connected peers, idle or stuck, must not keep serve alive after SIGTERM."""
    process = DrainedServe(data_dir)
    assoc = None
    try:
        port = process.port
        assoc = peer.associate(port)  # idle, established
        silent = peer.raw_connection(port)  # never sends an A-ASSOCIATE-RQ
        half_pdu = peer.raw_connection(port)  # stops in the middle of a PDU
        half_pdu.sendall(peer.associate_rq_pdu()[:50])
        mid_message = peer.raw_connection(port)  # stops in the middle of an N-CREATE
        mid_message.sendall(peer.associate_rq_pdu())
        assert peer.recv_pdu(mid_message)[0] == 0x02
        mid_message.sendall(
            peer.p_data_pdu(peer.n_create_command(peer.new_uid()), command=True, last=True)
        )
        loose_sockets.extend([silent, half_pdu, mid_message])
        time.sleep(0.3)
        started = time.monotonic()
        code, out, err = process.signal(signal.SIGTERM, timeout=30)
        took = time.monotonic() - started
    finally:
        if assoc is not None:
            assoc.abort()
        process.kill9()
    assert code == 0, err
    assert took < PROMPT_STOP_S, f"serve took {took:.1f} s to stop"
    assert "stopped" in out
    assert "Traceback" not in err
    assert_port_free(port, data_dir)


def test_port_in_use(data_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((peer.LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "serve", "--host", peer.LOOPBACK, "--port", str(port), "--data-dir", str(data_dir)
        )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("mppsconsole: error: ")
    assert f"{peer.LOOPBACK}:{port}" in errors[0]
    assert "in use" in errors[0].lower()
    assert "listening" not in result.stdout


def test_dcmtk_echoscu(serve: DrainedServe) -> None:
    result = peer.echoscu(serve.port)
    assert result.returncode == 0, result.stdout + result.stderr
    # the called AE title must be the console's (DESIGN.md §3, association policy)
    refused = peer.echoscu(serve.port, called="SOMEONE-ELSE")
    assert refused.returncode != 0
    assert peer.echoscu(serve.port).returncode == 0
