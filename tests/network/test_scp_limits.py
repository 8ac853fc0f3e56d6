"""The [limits] of the SCP, each hit by a real peer: a clear refusal, logged, then service."""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Iterator

import pytest
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    CTImageStorage,
    ModalityPerformedProcedureStep,
    Verification,
)

from mppsconsole.core.events import Traffic
from mppsconsole.core.limits import Limits
from mppsconsole.core.settings import Settings
from mppsconsole.net.sockets import NODELAY_HANDLER
from mppsconsole.net.staged_files import STAGING_DIR
from mppsconsole.store import instances
from tests.conftest import RunningServer, wait_until
from tests.e2e import peer
from tests.network import raw_peer
from tests.network.conftest import (
    completed_dataset,
    create_dataset,
    ct_image,
    mpps_association,
    performed_series,
    settings,
    stored_step,
)
from tests.network.test_hostile_input import assert_still_serving

SUCCESS = 0x0000


@pytest.fixture
def scp_settings(request: pytest.FixtureRequest) -> Settings:
    """The server's settings with the limits a test asks for (indirect parametrisation)."""
    return settings(limits=getattr(request, "param", Limits()))


@pytest.fixture
def traffic(scp: RunningServer) -> Iterator[list[Traffic]]:
    seen: list[Traffic] = []
    scp.server.events.subscribe(lambda e: seen.append(e) if isinstance(e, Traffic) else None)
    yield seen


def requestor(max_pdu: int = 16384) -> AE:
    ae = AE(ae_title="LIMITS-SCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.maximum_pdu_size = max_pdu
    ae.add_requested_context(ModalityPerformedProcedureStep)
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage)
    return ae


def rejection(assoc: object) -> tuple[int, int, int]:
    primitive = assoc.acceptor.primitive  # type: ignore[attr-defined]
    return (primitive.result, primitive.result_source, primitive.diagnostic)


def warnings_of(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


@pytest.mark.parametrize("scp_settings", [Limits(max_associations=2)], indirect=True)
def test_one_association_over_the_limit_is_rejected_transiently(
    scp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    ae = requestor()
    held = [ae.associate(scp.host, scp.port, ae_title=scp.ae_title) for _ in range(2)]
    try:
        assert all(a.is_established for a in held)
        third = ae.associate(scp.host, scp.port, ae_title=scp.ae_title)
        assert third.is_rejected
        assert rejection(third) == (0x02, 0x03, 0x02)  # transient, local limit exceeded
        assert wait_until(lambda: "Local limit exceeded" in warnings_of(caplog))
    finally:
        for assoc in held:
            assoc.release()
    # A released association holds its place until the SCP's threads for it have ended
    # (pynetdicom counts live threads; a peer arriving before that hears "transient").
    server = scp.server._server
    assert server is not None
    assert wait_until(lambda: len(server.active_associations) < 2, timeout=5)
    assert_still_serving(scp)  # a place is free again
    ae.shutdown()


@pytest.mark.parametrize(
    "scp_settings", [Limits(associations_per_minute=3)], indirect=True, ids=["3/min"]
)
def test_a_peer_over_its_rate_is_rejected_with_the_reason_logged(
    scp: RunningServer, caplog: pytest.LogCaptureFixture, traffic: list[Traffic]
) -> None:
    ae = requestor()
    outcomes = []
    for _ in range(4):
        assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title)
        outcomes.append("accepted" if assoc.is_established else "rejected")
        if assoc.is_established:
            assoc.release()
        else:
            assert rejection(assoc) == (0x02, 0x03, 0x01)  # transient, temporary congestion
    ae.shutdown()
    assert outcomes == ["accepted"] * 3 + ["rejected"]
    assert "over 3 associations per minute" in warnings_of(caplog)
    assert any(t.status == "rejected: temporary congestion" for t in traffic)
    # the server stays up; the peer is let in again as its bucket refills (20 s a token)
    assert DcmtkEcho.rejected(scp.port)


class DcmtkEcho:
    """DCMTK's echoscu, an independent peer from the same address."""

    @staticmethod
    def rejected(port: int) -> bool:
        result = peer.echoscu(port)
        return result.returncode != 0 and "Rejected" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "scp_settings", [Limits(max_request_bytes=20_000, max_store_bytes=40_000)], indirect=True
)
def test_oversized_n_create_is_aborted_while_it_arrives(
    scp: RunningServer, caplog: pytest.LogCaptureFixture, traffic: list[Traffic]
) -> None:
    big = create_dataset()
    big.PerformedSeriesSequence = [performed_series(image_uids=[generate_uid()] * 400)]
    uid = generate_uid()
    ae = requestor(max_pdu=4096)  # so the data set comes in many PDUs
    assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title, evt_handlers=[NODELAY_HANDLER])
    try:
        status, _ = assoc.send_n_create(big, ModalityPerformedProcedureStep, uid)
        assert not status, "a response to an oversized request"
        assert wait_until(lambda: assoc.is_aborted, timeout=5)
    finally:
        ae.shutdown()
    assert stored_step(scp, uid) is None
    assert "N-CREATE data set over 20000 bytes" in warnings_of(caplog)
    assert any(t.status == "aborted: data set too large" for t in traffic)
    with mpps_association(scp) as normal:  # a normal-sized request still goes through
        status, _ = normal.send_n_create(create_dataset(), ModalityPerformedProcedureStep, uid)
        assert status.Status == SUCCESS
        status, _ = normal.send_n_set(completed_dataset(), ModalityPerformedProcedureStep, uid)
        assert status.Status == SUCCESS


@pytest.mark.parametrize(
    "scp_settings", [Limits(max_request_bytes=20_000, max_store_bytes=40_000)], indirect=True
)
def test_oversized_c_store_is_aborted_and_leaves_no_file(
    scp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    small, large = ct_image(size=64), ct_image(size=256)  # 8 KiB and 128 KiB of pixels
    ae = requestor()
    assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title)
    try:
        assert assoc.send_c_store(small).Status == SUCCESS
        assert not assoc.send_c_store(large)
        assert wait_until(lambda: assoc.is_aborted, timeout=5)
    finally:
        ae.shutdown()
    assert "C-STORE data set over 40000 bytes" in warnings_of(caplog)
    with scp.db.reading() as conn:
        held = instances.held(conn, [small.SOPInstanceUID, large.SOPInstanceUID])
    assert set(held) == {small.SOPInstanceUID}
    staging = scp.images_dir / STAGING_DIR
    files = [p for p in scp.images_dir.rglob("*") if p.is_file()]
    assert [p.name for p in files if staging not in p.parents] == [f"{small.SOPInstanceUID}.dcm"]
    # What waits in the staging folder is empty files made ahead, nothing of the large image.
    assert all(p.stat().st_size == 0 for p in files if staging in p.parents)
    assert_still_serving(scp)


def test_a_pdu_longer_than_any_we_accept_is_aborted_before_it_is_read(
    scp: RunningServer,
) -> None:
    raw = raw_peer.RawAssociation(scp.port, peer.MPPS_CLASS)
    try:
        raw.sock.sendall(struct.pack(">BBL", 0x04, 0, 0x7FFFFFFF))
        sent = 0
        answer = b""
        raw.sock.settimeout(0.2)
        for _ in range(64):  # up to 4 MiB, while the server should stop listening
            try:
                raw.sock.sendall(bytes(65536))
                sent += 65536
                answer = raw.sock.recv(6)
            except TimeoutError:
                continue
            except OSError:
                break
            break
    finally:
        raw.sock.close()
    assert answer[:1] in (b"\x07", b""), answer  # an A-ABORT, or the connection closed
    assert sent < 4 * 1024 * 1024
    assert_still_serving(scp)


@pytest.mark.parametrize("scp_settings", [Limits(idle_timeout=1)], indirect=True)
def test_idle_peers_are_aborted_after_the_timeout(
    scp: RunningServer, caplog: pytest.LogCaptureFixture, traffic: list[Traffic]
) -> None:
    silent = socket.create_connection((scp.host, scp.port), timeout=10)  # never asks
    ae = requestor()
    quiet = ae.associate(scp.host, scp.port, ae_title=scp.ae_title)  # asks, then says nothing
    try:
        assert quiet.is_established
        started = time.monotonic()
        assert wait_until(lambda: quiet.is_aborted, timeout=8)
        assert 0.8 < time.monotonic() - started < 6
        assert silent.recv(16) in (b"", b"\x07\x00\x00\x00\x00\x04")  # closed by the server
    finally:
        silent.close()
        ae.shutdown()
    assert wait_until(lambda: "idle for 1 s" in warnings_of(caplog))
    assert "no association request in 1 s" in warnings_of(caplog)
    assert any(t.status == "idle timeout" for t in traffic)
    assert_still_serving(scp)
