"""DICOM TLS over loopback: our SCU and DCMTK against our SCP, and every failure named.

Certificates come from tests/network/tls_certs.py (a lab CA, a wrong CA, an
expired certificate), made fresh for each test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import StorageCommitmentPushModel  # type: ignore[attr-defined]

from mppsconsole.core.errors import ConfigError, PeerError
from mppsconsole.core.events import Traffic
from mppsconsole.core.settings import Node, TlsSettings
from mppsconsole.net import tls
from mppsconsole.net.echo_scu import echo
from mppsconsole.net.modality import complete_step, start_step
from mppsconsole.net.scp_context import Peer
from mppsconsole.net.server import DepartmentServer
from mppsconsole.net.workstation import Patient, Workstation
from mppsconsole.store import steps
from mppsconsole.store.db import Database
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env, wait_until
from tests.network.conftest import TIMEOUT, ct_image, settings
from tests.network.test_commitment_scp import REQUESTER_AE, Reports
from tests.network.tls_certs import Lab, make_lab

MODALITY = "MODALITY1"


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return make_lab(tmp_path / "certs")


@contextlib.contextmanager
def tls_scp(db: Database, data_dir: Path, files: TlsSettings) -> Iterator[RunningServer]:
    server = RunningServer(db, settings(tls=files), data_dir / "images")
    try:
        yield server
    finally:
        server.stop()


def traffic_of(server: DepartmentServer) -> list[Traffic]:
    lines: list[Traffic] = []
    server.events.subscribe(lambda e: lines.append(e) if isinstance(e, Traffic) else None)
    return lines


def test_mpps_and_images_over_mutually_authenticated_tls(
    lab: Lab, db: Database, data_dir: Path, tmp_path: Path
) -> None:
    """N-CREATE, C-STORE, N-SET over TLS with client certificates required."""
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        node = lab.node(scp.port, lab.client_tls(lab.client))
        station = Workstation(MODALITY, "CT01", "", "", None)
        modality_db = Database(tmp_path / "modality.sqlite3")
        try:
            assert echo(MODALITY, node) >= 0
            started = start_step(
                modality_db, station, node, patient=Patient("Doe^Jane", "P1"), modality="CT"
            )
            done = complete_step(
                modality_db, station, node, started.sop_instance_uid, image_count=2
            )
        finally:
            modality_db.close()
        assert done.status == "COMPLETED"
        with db.reading() as conn:
            stored = steps.get(conn, started.sop_instance_uid, "received")
        assert stored is not None and stored.summary.status == "COMPLETED"
        assert len(list((data_dir / "images").rglob("*.dcm"))) == 2
        assert scp.server.refused == 0


def test_accepted_tls_associations_say_how_they_are_secured(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        lines = traffic_of(scp.server)
        echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client)))
        assert wait_until(lambda: any(t.status == "accepted" for t in lines))
        (accepted,) = [t for t in lines if t.status == "accepted"]
        assert accepted.detail.startswith("TLSv1.")
        assert accepted.detail.endswith(", client certificate 'test SCU'")


def test_client_without_certificate_is_refused_when_one_is_required(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        lines = traffic_of(scp.server)
        with pytest.raises(PeerError) as failure:
            echo(MODALITY, lab.node(scp.port, lab.client_tls(None)))
        assert f"127.0.0.1:{scp.port}" in str(failure.value)
        assert "server requires a client certificate" in str(failure.value)
        assert wait_until(lambda: scp.server.refused == 1)
        (line,) = [t for t in lines if t.command == "TLS"]
        assert line.status == "rejected: the client sent no certificate (one is required)"
        # The server lives on: a client with a certificate is served.
        assert echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client))) >= 0


def test_client_certificate_is_optional_unless_required(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    with tls_scp(db, data_dir, lab.server_tls()) as scp:
        assert echo(MODALITY, lab.node(scp.port, lab.client_tls(None))) >= 0
        assert echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client))) >= 0


def test_server_from_an_unknown_ca_is_refused_by_our_scu(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    with tls_scp(db, data_dir, lab.server_tls(server=lab.stranger)) as scp:
        with pytest.raises(PeerError, match="certificate verify failed: unknown CA"):
            echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client)))
        # Our SCP hears that its certificate was not trusted.
        assert wait_until(lambda: scp.server.refused == 1)


def test_client_from_an_unknown_ca_is_refused_by_our_scp(
    lab: Lab, db: Database, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        lines = traffic_of(scp.server)
        with pytest.raises(PeerError):
            echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.stranger)))
        assert wait_until(lambda: any(t.command == "TLS" for t in lines))
        (line,) = [t for t in lines if t.command == "TLS"]
        assert line.status == "rejected: certificate verify failed: unknown CA"
        assert line.peer.startswith("?@127.0.0.1:")
        assert any("TLS handshake with 127.0.0.1:" in r.getMessage() for r in caplog.records)


def test_expired_server_certificate(lab: Lab, db: Database, data_dir: Path) -> None:
    with (
        tls_scp(db, data_dir, lab.server_tls(server=lab.expired)) as scp,
        pytest.raises(PeerError) as failure,
    ):
        echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client)))
    assert str(failure.value) == (
        f"TLS with 127.0.0.1:{scp.port} failed: certificate verify failed: certificate has expired"
    )


def test_expired_client_certificate(lab: Lab, db: Database, data_dir: Path) -> None:
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        lines = traffic_of(scp.server)
        with pytest.raises(PeerError, match="certificate has expired"):
            echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.expired)))
        assert wait_until(lambda: any(t.command == "TLS" for t in lines))
        (line,) = [t for t in lines if t.command == "TLS"]
        assert line.status == "rejected: certificate verify failed: certificate has expired"


def test_plain_client_on_the_tls_port_is_logged_and_the_server_lives_on(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    with tls_scp(db, data_dir, lab.server_tls()) as scp:
        lines = traffic_of(scp.server)
        with pytest.raises(PeerError, match=r"reset the connection|aborted") as failure:
            echo(MODALITY, Node("plain", "MPPSCONSOLE", LOOPBACK, scp.port))
        if "reset" in str(failure.value):  # the usual case; an orderly close reads "aborted"
            assert str(failure.value).endswith("during negotiation (does it expect TLS?)")
        assert wait_until(lambda: any(t.command == "TLS" for t in lines))
        (line,) = [t for t in lines if t.command == "TLS"]
        assert line.status == "rejected: the peer does not speak TLS (a plain DICOM port?)"
        assert scp.server.refused == 1
        assert echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client))) >= 0


def test_silent_client_does_not_hold_up_other_peers(lab: Lab, db: Database, data_dir: Path) -> None:
    """The handshake runs on the connection's thread: a client that says nothing
    (pynetdicom would handshake in the accept loop) blocks no one else."""
    with (
        tls_scp(db, data_dir, lab.server_tls()) as scp,
        socket.create_connection((LOOPBACK, scp.port), timeout=TIMEOUT),
    ):
        assert echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client))) >= 0


def test_tls_client_against_a_plain_server(scp: RunningServer, lab: Lab) -> None:
    with pytest.raises(PeerError) as failure:
        echo(MODALITY, lab.node(scp.port, lab.client_tls(lab.client)))
    assert str(failure.value) == (
        f"TLS with 127.0.0.1:{scp.port} failed: the peer does not speak TLS (a plain DICOM port?)"
    )


def test_tls_1_1_is_refused(lab: Lab, db: Database, data_dir: Path) -> None:
    with tls_scp(db, data_dir, lab.server_tls()) as scp:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():  # Python deprecates TLS 1.1, as we do
            warnings.simplefilter("ignore", DeprecationWarning)
            context.maximum_version = ssl.TLSVersion.TLSv1_1
            with contextlib.suppress(ssl.SSLError, ValueError):
                context.minimum_version = ssl.TLSVersion.TLSv1_1
        with (
            socket.create_connection((LOOPBACK, scp.port), timeout=TIMEOUT) as raw,
            pytest.raises(ssl.SSLError),
        ):
            context.wrap_socket(raw, server_hostname="localhost")
        assert wait_until(lambda: scp.server.refused == 1)


def test_hostname_must_match_unless_switched_off(lab: Lab, db: Database, data_dir: Path) -> None:
    """A server certificate that does not name the host we dial is refused by default."""
    with tls_scp(db, data_dir, lab.server_tls(server=lab.misnamed)) as scp:
        with pytest.raises(PeerError, match="does not name this host"):
            echo(MODALITY, lab.node(scp.port, lab.client_tls()))
        unchecked = dataclasses.replace(lab.client_tls(), check_hostname=False)
        assert echo(MODALITY, lab.node(scp.port, unchecked)) >= 0


@pytest.mark.parametrize("mistake", ["missing", "not PEM", "key of another certificate"])
def test_unusable_server_files_fail_at_start(
    lab: Lab, db: Database, data_dir: Path, tmp_path: Path, mistake: str
) -> None:
    files = lab.server_tls()
    if mistake == "missing":
        files = dataclasses.replace(files, cert=str(tmp_path / "nope.pem"))
        expected = "cannot read the certificate"
    elif mistake == "not PEM":
        junk = tmp_path / "junk.pem"
        junk.write_text("hello\n")
        files = dataclasses.replace(files, cert=str(junk))
        expected = "not a PEM certificate"
    else:
        files = dataclasses.replace(files, key=str(lab.client.key))
        expected = "does not match the certificate"
    server = DepartmentServer(db, settings(tls=files), data_dir / "images")
    with pytest.raises(ConfigError, match=expected):
        server.start(LOOPBACK, 0)
    server.stop()


def test_unreadable_client_files_are_a_config_error(lab: Lab, tmp_path: Path) -> None:
    files = dataclasses.replace(lab.client_tls(lab.client), ca=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match="cannot read the CA certificate"):
        tls.client_context(files)


def test_contexts_follow_bcp195(lab: Lab) -> None:
    for context in (tls.server_context(lab.server_tls()), tls.client_context(lab.client_tls())):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.options & ssl.OP_NO_COMPRESSION
        tls12 = [c for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"]
        assert tls12, "no TLS 1.2 suite left"
        assert all(c["kea"] == "kx-ecdhe" and c["aead"] for c in tls12), tls12


# --- DCMTK against our SCP ---------------------------------------------------------------


def dcmtk_tls(
    tool: str, scp: RunningServer, lab: Lab, *extra: str, files: tuple[str, ...] = ()
) -> tuple[int, str]:
    result = subprocess.run(
        [
            dcmtk(tool),
            "-v",
            "-aet",
            MODALITY,
            "-aec",
            scp.ae_title,
            "-to",
            str(TIMEOUT),
            "-ta",
            str(TIMEOUT),
            "-td",
            str(TIMEOUT),
            *extra,
            LOOPBACK,
            str(scp.port),
            *files,
        ],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.dcmtk
def test_dcmtk_echoscu_and_storescu_over_tls(
    lab: Lab, db: Database, data_dir: Path, tmp_path: Path
) -> None:
    keys = ("+tls", str(lab.client.key), str(lab.client.cert), "+cf", str(lab.ca))
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        code, log = dcmtk_tls("echoscu", scp, lab, *keys)
        assert code == 0, log
        assert "Received Echo Response (Success)" in log
        image = tmp_path / "image.dcm"
        ds = ct_image(generate_uid())
        ds.save_as(image, enforce_file_format=True)
        code, log = dcmtk_tls("storescu", scp, lab, *keys, files=(str(image),))
        assert code == 0, log
        assert "Received Store Response (Success)" in log
        (stored,) = list((data_dir / "images").rglob("*.dcm"))
        assert stored.name == f"{ds.SOPInstanceUID}.dcm"


@pytest.mark.dcmtk
@pytest.mark.parametrize(
    ("profile", "protocol"),
    [("+py", "TLSv1.3"), ("+px", "TLSv1.3"), ("+pz", "TLSv1.2")],
    ids=["bcp195-nd", "bcp195", "bcp195-ex"],
)
def test_dcmtk_bcp195_profiles(
    lab: Lab, db: Database, data_dir: Path, profile: str, protocol: str
) -> None:
    """DCMTK's three BCP 195 profiles all meet ours (the extended one caps at TLS 1.2)."""
    keys = ("+tls", str(lab.client.key), str(lab.client.cert), "+cf", str(lab.ca))
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        code, log = dcmtk_tls("echoscu", scp, lab, "-d", *keys, profile)
    assert code == 0, log
    assert f"Protocol    : {protocol}" in log, log


@pytest.mark.dcmtk
def test_dcmtk_echoscu_failures_over_tls(lab: Lab, db: Database, data_dir: Path) -> None:
    with tls_scp(db, data_dir, lab.server_tls(require_client_cert=True)) as scp:
        lines = traffic_of(scp.server)
        # Anonymous TLS (no client certificate) against a server that requires one.
        code, log = dcmtk_tls("echoscu", scp, lab, "+tla", "+cf", str(lab.ca))
        assert code != 0, log
        # A client certificate from another CA.
        stranger = ("+tls", str(lab.stranger.key), str(lab.stranger.cert), "+cf", str(lab.ca))
        code, log = dcmtk_tls("echoscu", scp, lab, *stranger)
        assert code != 0, log
        # Plain TCP on the TLS port.
        code, log = dcmtk_tls("echoscu", scp, lab)
        assert code != 0, log
        assert wait_until(lambda: len([t for t in lines if t.command == "TLS"]) == 3)
        reasons = [t.status for t in lines if t.command == "TLS"]
        assert reasons == [
            "rejected: the client sent no certificate (one is required)",
            "rejected: certificate verify failed: unknown CA",
            "rejected: the peer does not speak TLS (a plain DICOM port?)",
        ]
        assert scp.server.refused == 3
        # DCMTK verifies our certificate against the CA it was given.
        code, log = dcmtk_tls(
            "echoscu",
            scp,
            lab,
            "+tls",
            str(lab.client.key),
            str(lab.client.cert),
            "+cf",
            str(lab.other_ca),
        )
        assert code != 0, log


def test_commitment_report_to_a_tls_node_goes_over_tls(
    lab: Lab, db: Database, data_dir: Path
) -> None:
    """A report on a new association (the requester has gone) uses the node's TLS setting."""
    receiver_ae = AE(ae_title=REQUESTER_AE)
    receiver_ae.acse_timeout = receiver_ae.dimse_timeout = receiver_ae.network_timeout = TIMEOUT
    receiver_ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    reports = Reports()
    receiver = receiver_ae.start_server(
        (LOOPBACK, 0),
        block=False,
        ssl_context=tls.server_context(lab.server_tls(require_client_cert=True, server=lab.client)),
        evt_handlers=[*reports.handlers],
    )
    port = int(receiver.server_address[1])
    files = lab.server_tls()
    nodes = (Node("modality", REQUESTER_AE, LOOPBACK, port, tls=True),)
    server = RunningServer(db, settings(tls=files, nodes=nodes), data_dir / "images")
    try:
        report = Dataset()
        report.TransactionUID = generate_uid()
        report.ReferencedSOPSequence = []
        server.server.commitment._send_on_new_association(
            Peer(REQUESTER_AE, "127.0.0.1:1"), 1, report
        )
        assert reports.wait(), "no report over TLS"
        ((event_type, info, _mode),) = reports.received
        assert event_type == 1 and info.TransactionUID == report.TransactionUID
    finally:
        server.stop()
        receiver.shutdown()


@pytest.mark.parametrize(
    ("openssl", "phrase"),
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
            "issuer certificate (_ssl.c:1006)",
            "certificate verify failed: unknown CA",
        ),
        (
            "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)",
            "the peer does not accept TLS 1.2 or later",
        ),
        (
            "[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired",
            "the peer refused our certificate: certificate has expired",
        ),
        ("The handshake operation timed out", "no TLS handshake within 10 s"),
        ("[SSL: SOMETHING_NEW] something new (_ssl.c:1)", "TLS error: [SSL: SOMETHING_NEW]"),
    ],
)
def test_openssl_reasons_in_words(openssl: str, phrase: str) -> None:
    assert tls.describe(openssl).startswith(phrase)
