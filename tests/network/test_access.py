"""The access list on real associations: by calling AE, by host, by service.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a client bound to
127.0.0.2 reaches the SCP on 127.0.0.1 from "another host": the same AE title
from two addresses without a second machine.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    CTImageStorage,
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
    Verification,
)

from mppsconsole.core.access import AccessRule
from mppsconsole.core.errors import PeerError
from mppsconsole.core.events import Traffic
from mppsconsole.core.matching import WorklistQuery
from mppsconsole.core.settings import Node, Settings
from mppsconsole.net.echo_scu import echo
from mppsconsole.net.mwl_scu import query_worklist
from mppsconsole.net.sockets import NODELAY_HANDLER
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env, wait_until
from tests.network.conftest import (
    TIMEOUT,
    associate,
    create_dataset,
    ct_image,
    mwl_query,
    settings,
)

OTHER_HOST = "127.0.0.2"  # another loopback address: "a different host" for the SCP
RULES = (
    AccessRule("CT1", hosts=("127.0.0.1",)),
    AccessRule("NET", hosts=("127.0.0.0/30",)),
    AccessRule("MPPSONLY", services=("verification", "mpps")),
    AccessRule("FINDER", services=("verification",)),
    AccessRule("STOREONLY", services=("storage",)),
)


@pytest.fixture
def scp_settings() -> Settings:
    return settings(access=RULES)


@pytest.fixture
def traffic(scp: RunningServer) -> Iterator[list[Traffic]]:
    lines: list[Traffic] = []
    hub = scp.server.events

    def collect(event: object) -> None:
        if isinstance(event, Traffic):
            lines.append(event)

    hub.subscribe(collect)
    yield lines
    hub.unsubscribe(collect)


def request(scp: RunningServer, ae_title: str, source: str = LOOPBACK) -> AE:
    """An association attempt from ``ae_title`` at ``source``; the caller checks the answer."""
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.add_requested_context(Verification)
    return ae.associate(
        scp.host,
        scp.port,
        ae_title=scp.ae_title,
        bind_address=(source, 0),
        evt_handlers=[NODELAY_HANDLER],
    )


def rejected(scp: RunningServer, ae_title: str, source: str = LOOPBACK) -> bool:
    assoc = request(scp, ae_title, source)
    try:
        if assoc.is_established:
            assoc.release()
            return False
        assert assoc.is_rejected
        primitive = assoc.acceptor.primitive
        assert (primitive.result, primitive.result_source, primitive.diagnostic) == (1, 1, 3)
        return True
    finally:
        assoc.ae.shutdown()


def test_calling_ae_not_listed_is_rejected_logged_published_and_counted(
    scp: RunningServer, traffic: list[Traffic], caplog: pytest.LogCaptureFixture
) -> None:
    assert rejected(scp, "STRANGER")
    assert scp.server.refused == 1
    (line,) = [t for t in traffic if t.command == "ASSOCIATE"]
    assert line.status == "rejected: calling AE title 'STRANGER' is not in the access list"
    assert line.peer.startswith("STRANGER@127.0.0.1:")
    assert any(
        "STRANGER@127.0.0.1" in r.getMessage() and "not in the access list" in r.getMessage()
        for r in caplog.records
        if r.name == "mppsconsole.net.server"
    )
    assert not rejected(scp, "CT1")
    assert scp.server.refused == 1


def test_ae_bound_to_a_host_is_rejected_from_another(
    scp: RunningServer, traffic: list[Traffic]
) -> None:
    assert not rejected(scp, "CT1", LOOPBACK)
    assert rejected(scp, "CT1", OTHER_HOST)
    (line,) = [t for t in traffic if t.status.startswith("rejected")]
    assert line.status == (
        "rejected: calling AE title 'CT1' is not allowed from 127.0.0.2 (only 127.0.0.1)"
    )
    # A network entry covers both addresses.
    assert not rejected(scp, "NET", OTHER_HOST)
    assert scp.server.refused == 1


def test_called_ae_mismatch_is_still_rejected_first(scp: RunningServer) -> None:
    ae = AE(ae_title="STRANGER")
    ae.acse_timeout = TIMEOUT
    ae.add_requested_context(Verification)
    assoc = ae.associate(scp.host, scp.port, ae_title="WRONG")
    try:
        assert assoc.is_rejected
        assert assoc.acceptor.primitive.diagnostic == 0x07  # called AE title not recognised
    finally:
        ae.shutdown()
    assert wait_until(lambda: scp.server.refused == 1)


def test_services_not_granted_get_not_authorized_with_a_comment(scp: RunningServer) -> None:
    contexts = (Verification, ModalityPerformedProcedureStep, ModalityWorklistInformationFind)
    with associate(scp, *contexts, CTImageStorage, ae_title="MPPSONLY") as assoc:
        assert assoc.send_c_echo().Status == 0x0000
        status, _ = assoc.send_n_create(
            create_dataset(), ModalityPerformedProcedureStep, generate_uid()
        )
        assert status.Status == 0x0000
        (status, identifier), *rest = list(
            assoc.send_c_find(mwl_query(), ModalityWorklistInformationFind)
        )
        assert rest == [] and identifier is None
        assert status.Status == 0x0122  # C-FIND has no "not authorized" in PS3.7
        assert status.ErrorComment == "MPPSONLY is not authorized for worklist"
        stored = assoc.send_c_store(ct_image(generate_uid()))
        assert stored.Status == 0x0122
        assert stored.ErrorComment == "MPPSONLY is not authorized for storage"
    with associate(scp, Verification, ModalityPerformedProcedureStep, ae_title="FINDER") as a:
        assert a.send_c_echo().Status == 0x0000
        status, _ = a.send_n_create(create_dataset(), ModalityPerformedProcedureStep, None)
        assert status.Status == 0x0124
        assert status.ErrorComment == "FINDER is not authorized for mpps"


def test_echo_and_commitment_can_be_withheld_too(
    scp: RunningServer, traffic: list[Traffic]
) -> None:
    with associate(scp, Verification, StorageCommitmentPushModel, ae_title="STOREONLY") as a:
        echoed = a.send_c_echo()
        assert echoed.Status == 0x0122
        assert echoed.ErrorComment == "STOREONLY is not authorized for verification"
        request = Dataset()
        request.TransactionUID = generate_uid()
        request.ReferencedSOPSequence = []
        status, _ = a.send_n_action(
            request, 1, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
        )
        assert status.Status == 0x0124
        assert status.ErrorComment == "STOREONLY is not authorized for commitment"
    refusals = [(t.command, t.status, t.detail) for t in traffic if t.status.startswith("refused")]
    assert refusals == [
        (
            "VERIFICATION",
            "refused: not authorized",
            "STOREONLY is not authorized for verification",
        ),
        ("COMMITMENT", "refused: not authorized", "STOREONLY is not authorized for commitment"),
    ]
    assert scp.server.refused == 0  # requests refused, not associations


def test_our_scu_reports_the_refusal(scp: RunningServer) -> None:
    node = Node("scp", scp.ae_title, scp.host, scp.port)
    assert echo("FINDER", node) >= 0
    with pytest.raises(PeerError, match="FINDER is not authorized for worklist"):
        query_worklist("FINDER", node, WorklistQuery())


@pytest.mark.dcmtk
def test_dcmtk_findscu_refused_echoscu_allowed(scp: RunningServer, tmp_path: Path) -> None:
    common = ["-aet", "FINDER", "-aec", scp.ae_title, "-to", str(TIMEOUT), "-ta", str(TIMEOUT)]
    echo_run = subprocess.run(
        [dcmtk("echoscu"), "-v", *common, LOOPBACK, str(scp.port)],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert echo_run.returncode == 0, echo_run.stderr
    find_run = subprocess.run(
        [
            dcmtk("findscu"),
            "-d",
            "-W",
            *common,
            "-k",
            "ScheduledProcedureStepSequence[0].Modality=CT",
            "-k",
            "PatientName",
            LOOPBACK,
            str(scp.port),
        ],
        env=dcmtk_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = find_run.stdout + find_run.stderr
    # -d shows the response's status and its detail: our Error Comment.
    assert "DIMSE Status                  : 0x0122: Refused: SOP Class not supported" in output
    assert "ErrorComment" in output and "FINDER is not authorized for worklist" in output, output
