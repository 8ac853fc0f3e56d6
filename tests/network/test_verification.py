"""Verification and association policy (DESIGN.md §3): called AE must match, optional allow-list."""

from __future__ import annotations

import logging
import subprocess

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    Verification,
)

from mppsconsole.core.settings import Settings
from mppsconsole.net.sockets import NODELAY_HANDLER
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env
from tests.network.conftest import TIMEOUT, associate, settings

pytestmark = pytest.mark.dcmtk


def echoscu(scp: RunningServer, *, aet: str = "ECHOSCU", aec: str | None = None) -> tuple[int, str]:
    """(exit status, log) of DCMTK echoscu against ``scp``."""
    result = subprocess.run(
        [
            dcmtk("echoscu"),
            "-v",
            "-aet",
            aet,
            "-aec",
            aec or scp.ae_title,
            "-to",
            str(TIMEOUT),
            "-ta",
            str(TIMEOUT),
            "-td",
            str(TIMEOUT),
            LOOPBACK,
            str(scp.port),
        ],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def _rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "mppsconsole.net.server" and "rejected" in r.getMessage()
    ]


def test_echoscu_succeeds(scp: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mppsconsole.net.server")
    code, log = echoscu(scp)
    assert code == 0, log
    assert "Received Echo Response (Success)" in log
    assert any("accepted from ECHOSCU@" in r.getMessage() for r in caplog.records)
    assert _rejections(caplog) == []


def test_pynetdicom_echo_succeeds(scp: RunningServer) -> None:
    with associate(scp, Verification) as assoc:
        status = assoc.send_c_echo()
    assert status.Status == 0x0000


def test_wrong_called_ae_is_rejected(scp: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    code, log = echoscu(scp, aec="NOTCONSOLE")
    assert code != 0, log
    assert "Association Rejected" in log
    assert "Called AE Title Not Recognized" in log
    (message,) = _rejections(caplog)
    assert "ECHOSCU@127.0.0.1:" in message
    assert "NOTCONSOLE" in message
    assert "Called AE title not recognised" in message


def test_wrong_called_ae_rejection_seen_by_pynetdicom(scp: RunningServer) -> None:
    ae = AE(ae_title="MODALITY1")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.add_requested_context(Verification)
    assoc = ae.associate(scp.host, scp.port, ae_title="OTHERAE", evt_handlers=[NODELAY_HANDLER])
    try:
        assert assoc.is_rejected
        rejection = assoc.acceptor.primitive
        assert (rejection.result, rejection.result_source, rejection.diagnostic) == (
            0x01,  # rejected-permanent
            0x01,  # DICOM UL service-user
            0x07,  # called AE title not recognised
        )
    finally:
        ae.shutdown()


@pytest.mark.parametrize(
    "scp_settings", [settings(allowed_calling_aets=("GOODAE",))], ids=["allow-GOODAE"]
)
def test_allow_list_of_calling_aes(
    scp: RunningServer, scp_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    code, log = echoscu(scp, aet="BADAE")
    assert code != 0, log
    assert "Calling AE Title Not Recognized" in log
    (message,) = _rejections(caplog)
    assert "BADAE@" in message
    assert "Calling AE title not recognised" in message

    code, log = echoscu(scp, aet="GOODAE")
    assert code == 0, log
    assert "Received Echo Response (Success)" in log
    assert len(_rejections(caplog)) == 1


@pytest.mark.parametrize(
    "scp_settings", [settings(allowed_calling_aets=("GOODAE",))], ids=["allow-GOODAE"]
)
def test_allow_list_applies_to_every_service(scp: RunningServer, scp_settings: Settings) -> None:
    """The allow-list guards the association, so MPPS and storage are refused too."""
    ae = AE(ae_title="MODALITY1")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.add_requested_context(ModalityPerformedProcedureStep)
    assoc = ae.associate(scp.host, scp.port, ae_title=scp.ae_title, evt_handlers=[NODELAY_HANDLER])
    try:
        assert assoc.is_rejected
        assert assoc.acceptor.primitive.diagnostic == 0x03  # calling AE title not recognised
    finally:
        ae.shutdown()
    with associate(scp, ModalityPerformedProcedureStep, ae_title="GOODAE") as accepted:
        assert accepted.is_established
