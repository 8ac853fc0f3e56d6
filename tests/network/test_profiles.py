"""Server behaviour profiles against the running SCP: real pynetdicom SCUs and DCMTK tools.

Each fault action is seen from the peer's side of a real association, and the
store is checked for what the SCP kept (a forced refusal stores nothing but
stays in the step's history with its status).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.events import Event
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    StorageCommitmentPushModel,
    Verification,
)

from mppsconsole.core.errors import PeerError
from mppsconsole.core.events import Traffic
from mppsconsole.core.profile import LENIENT, STRICT, FaultRule, Profile
from mppsconsole.core.settings import Node
from mppsconsole.net.commitment_scu import request_commitment
from mppsconsole.net.faults import activate
from mppsconsole.net.sockets import NODELAY_HANDLER
from tests.conftest import LOOPBACK, RunningServer, dcmtk, dcmtk_env, wait_until
from tests.network.conftest import (
    MODALITY_AE,
    TIMEOUT,
    add_worklist,
    associate,
    completed_dataset,
    create_dataset,
    ct_image,
    find_worklist,
    mpps_association,
    mwl_query,
    step_messages,
    stored_step,
)

MPPS = ModalityPerformedProcedureStep
COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"
REQUEST_COMMITMENT = 1


def use(scp: RunningServer, *faults: FaultRule, mode: str = LENIENT) -> None:
    activate(scp.server.ctx, Profile(mode=mode, faults=faults))


_SEEN: dict[int, list[Traffic]] = {}


@pytest.fixture(autouse=True)
def _record_traffic(scp: RunningServer) -> Iterator[None]:
    seen: list[Traffic] = []
    _SEEN[id(scp)] = seen
    scp.server.events.subscribe(lambda e: seen.append(e) if isinstance(e, Traffic) else None)
    yield
    del _SEEN[id(scp)]


def traffic(scp: RunningServer) -> list[Traffic]:
    """The traffic-log lines the SCP published so far in this test."""
    return list(_SEEN[id(scp)])


# Forced statuses on MPPS


@pytest.mark.parametrize(
    ("status", "error_id"), [(0x0111, None), (0x0110, 0xA710), (0x0120, None), (0x0213, None)]
)
def test_forced_n_create_status_stores_nothing_and_keeps_history(
    scp: RunningServer, status: int, error_id: int | None
) -> None:
    use(scp, FaultRule("mpps-create", "status", status=status, error_id=error_id))
    uid = generate_uid()
    with mpps_association(scp) as assoc:
        answer, _ = assoc.send_n_create(create_dataset(), MPPS, uid)
    assert answer.Status == status
    assert "Injected" in answer.ErrorComment
    if error_id is not None:
        assert answer.ErrorID == error_id
    assert stored_step(scp, uid) is None
    assert [(m.command, m.status) for m in step_messages(scp, uid)] == [("N-CREATE", status)]
    lines = traffic(scp)
    assert any(t.status == "injected" and f"0x{status:04X}" in t.detail for t in lines)


@pytest.mark.parametrize(("status", "error_id"), [(0x0110, 0xA710), (0x0112, None)])
def test_forced_n_set_status_leaves_the_step_unchanged(
    scp: RunningServer, status: int, error_id: int | None
) -> None:
    uid = generate_uid()
    with mpps_association(scp) as assoc:
        assert assoc.send_n_create(create_dataset(), MPPS, uid)[0].Status == 0
        before = stored_step(scp, uid)
        use(scp, FaultRule("mpps-set", "status", status=status, error_id=error_id))
        answer, _ = assoc.send_n_set(completed_dataset(), MPPS, uid)
        assert answer.Status == status
        assert ("ErrorID" in answer) == (error_id is not None)
        use(scp)  # switched back while the association stays open
        assert assoc.send_n_set(completed_dataset(), MPPS, uid)[0].Status == 0
    assert before is not None and before.summary.status == "IN PROGRESS"
    assert [m.status for m in step_messages(scp, uid)] == [0, status, 0]
    after = stored_step(scp, uid)
    assert after is not None and after.summary.status == "COMPLETED"


def test_count_limits_a_rule_to_the_next_n_requests(scp: RunningServer) -> None:
    use(scp, FaultRule("mpps-create", "status", status=0x0213, count=2))
    with mpps_association(scp) as assoc:
        answers = [
            int(assoc.send_n_create(create_dataset(), MPPS, generate_uid())[0].Status)
            for _ in range(4)
        ]
    assert answers == [0x0213, 0x0213, 0, 0]


# Per-AE scoping


def test_a_rule_for_one_calling_ae_leaves_others_alone(scp: RunningServer) -> None:
    use(scp, FaultRule("mpps-create", "status", status=0x0110, calling_ae="CT1"))
    answers = {}
    for ae in ("CT1", "MR1"):
        with mpps_association(scp, ae_title=ae) as assoc:
            answers[ae] = int(assoc.send_n_create(create_dataset(), MPPS, generate_uid())[0].Status)
    assert answers == {"CT1": 0x0110, "MR1": 0x0000}


# Other services


def test_forced_c_find_failure(scp: RunningServer) -> None:
    use(scp, FaultRule("worklist", "status", status=0xA700, error_comment="RIS down"))
    found, final = find_worklist(scp, mwl_query())
    assert (found, final) == ([], 0xA700)


@pytest.mark.parametrize("status", [0xA700, 0xC000])
def test_forced_c_store_failure_writes_no_file(scp: RunningServer, status: int) -> None:
    use(scp, FaultRule("storage", "status", status=status))
    image = ct_image()
    with associate(scp, (CTImageStorage, [ExplicitVRLittleEndian])) as assoc:
        assert assoc.send_c_store(image).Status == status
    assert list(scp.images_dir.rglob("*.dcm")) == []


def test_forced_c_echo_failure(scp: RunningServer) -> None:
    use(scp, FaultRule("verification", "status", status=0x0110))
    with associate(scp, Verification) as assoc:
        assert assoc.send_c_echo().Status == 0x0110
    use(scp)
    with associate(scp, Verification) as assoc:
        assert assoc.send_c_echo().Status == 0x0000


# Delay


def _timed_echo(scp: RunningServer, ae_title: str, out: dict[str, float]) -> None:
    with associate(scp, Verification, ae_title=ae_title) as assoc:
        start = time.monotonic()
        assert assoc.send_c_echo().Status == 0
        out[ae_title] = time.monotonic() - start


def test_delay_holds_one_peer_and_not_the_others(scp: RunningServer) -> None:
    use(scp, FaultRule("verification", "delay", calling_ae="SLOW", delay_ms=1500))
    took: dict[str, float] = {}
    slow = threading.Thread(target=_timed_echo, args=(scp, "SLOW", took))
    slow.start()
    time.sleep(0.2)  # the slow echo is being held now
    _timed_echo(scp, "FAST", took)
    slow.join(TIMEOUT)
    assert took["SLOW"] >= 1.5
    assert took["FAST"] < 1.0
    assert "FAST" in took and took["FAST"] < took["SLOW"]


def test_delay_of_an_n_create_still_stores_it(scp: RunningServer) -> None:
    use(scp, FaultRule("mpps-create", "delay", delay_ms=600))
    uid = generate_uid()
    with mpps_association(scp) as assoc:
        start = time.monotonic()
        assert assoc.send_n_create(create_dataset(), MPPS, uid)[0].Status == 0
        assert time.monotonic() - start >= 0.6
    assert stored_step(scp, uid) is not None
    assert any(t.status == "injected" and "delay 600" in t.detail for t in traffic(scp))


# Associations


def _request(scp: RunningServer, ae_title: str = MODALITY_AE) -> Any:
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT
    ae.add_requested_context(Verification)
    return ae.associate(scp.host, scp.port, ae_title=scp.ae_title, evt_handlers=[NODELAY_HANDLER])


def test_rejected_association_carries_the_configured_reason(scp: RunningServer) -> None:
    use(scp, FaultRule("association", "reject", calling_ae="CT1", reject=(2, 3, 1)))
    assoc = _request(scp, "CT1")
    assert assoc.is_rejected
    rj = assoc.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (2, 3, 1)
    other = _request(scp, "MR1")
    assert other.is_established
    other.release()
    assert wait_until(lambda: any(t.status.startswith("rejected") for t in traffic(scp)))


def test_aborted_association_request(scp: RunningServer) -> None:
    use(scp, FaultRule("association", "abort"))
    assoc = _request(scp)
    assert assoc.is_aborted and not assoc.is_established


@pytest.mark.parametrize("when", ["before", "after"])
def test_abort_around_an_n_create(scp: RunningServer, when: str) -> None:
    use(scp, FaultRule("mpps-create", "abort", abort=when))
    uid = generate_uid()
    aborted = threading.Event()
    with mpps_association(scp, evt_handlers=[(evt.EVT_ABORTED, lambda _e: aborted.set())]) as a:
        answer, _ = a.send_n_create(create_dataset(), MPPS, uid)
        assert aborted.wait(TIMEOUT), "the SCP did not abort"
    if when == "before":
        assert not answer  # no response: the association ended first
        assert stored_step(scp, uid) is None
    else:
        assert answer.Status == 0x0000  # answered, stored, then aborted
        assert stored_step(scp, uid) is not None


def test_abort_after_a_c_find_comes_after_its_last_match(scp: RunningServer) -> None:
    add_worklist(
        scp,
        *(
            {
                "patient_name": f"Abort^{n}",
                "patient_id": f"PA{n}",
                "modality": "CT",
                "date": "20261122",
            }
            for n in range(3)
        ),
    )
    use(scp, FaultRule("worklist", "abort", abort="after"))
    aborted = threading.Event()
    statuses = []
    with associate(
        scp,
        ModalityWorklistInformationFind,
        evt_handlers=[(evt.EVT_ABORTED, lambda _e: aborted.set())],
    ) as assoc:
        for status, _ in assoc.send_c_find(mwl_query(), ModalityWorklistInformationFind):
            statuses.append(int(status.Status))
        assert aborted.wait(TIMEOUT), "the SCP did not abort after answering"
    assert statuses == [0xFF00, 0xFF00, 0xFF00, 0x0000]


# Storage commitment


def test_dropped_commitment_report_never_arrives(scp: RunningServer) -> None:
    use(scp, FaultRule("commitment", "drop-report"))
    reports: list[Dataset] = []

    def on_report(event: Event) -> tuple[int, None]:
        reports.append(event.event_information)
        return 0, None

    image = ct_image()
    request = Dataset()
    request.TransactionUID = generate_uid()
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    request.ReferencedSOPSequence = DicomSequence([ref])
    with associate(
        scp,
        (CTImageStorage, [ExplicitVRLittleEndian]),
        StorageCommitmentPushModel,
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
    ) as assoc:
        assert assoc.send_c_store(image).Status == 0
        status, _ = assoc.send_n_action(
            request, REQUEST_COMMITMENT, StorageCommitmentPushModel, COMMITMENT_INSTANCE
        )
        assert status.Status == 0
        assert not wait_until(lambda: bool(reports), timeout=3), "report was not dropped"


def test_our_scu_times_out_on_a_dropped_report(scp: RunningServer) -> None:
    use(scp, FaultRule("commitment", "drop-report"))
    node = Node("self", scp.ae_title, scp.host, scp.port)
    image = ct_image()
    with associate(scp, (CTImageStorage, [ExplicitVRLittleEndian])) as assoc:
        assert assoc.send_c_store(image).Status == 0
    references = [(str(image.SOPClassUID), str(image.SOPInstanceUID))]
    start = time.monotonic()
    with pytest.raises(PeerError, match=r"no storage commitment report .* within 2 s"):
        request_commitment(scp.db, "MODALITY2", node, references, step_uid=None, wait=2)
    assert time.monotonic() - start >= 2


# Strict and lenient MPPS rules


def _without(ds: Dataset, keyword: str) -> Dataset:
    delattr(ds, keyword)
    return ds


def test_missing_type2_refused_0120_when_strict_accepted_when_lenient(
    scp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mppsconsole.net.leniency")
    use(scp, mode=STRICT)
    uid = generate_uid()
    with mpps_association(scp) as assoc:
        refused, _ = assoc.send_n_create(_without(create_dataset(), "PatientSex"), MPPS, uid)
        assert refused.Status == 0x0120
        assert "PatientSex" in refused.ErrorComment
        assert stored_step(scp, uid) is None
        use(scp, mode=LENIENT)
        assert (
            assoc.send_n_create(_without(create_dataset(), "PatientSex"), MPPS, uid)[0].Status == 0
        )
    assert stored_step(scp, uid) is not None
    tolerated = [t for t in traffic(scp) if t.status == "tolerated"]
    assert any("PatientSex" in t.detail and "lenient" in t.detail for t in tolerated)
    assert any(
        r.levelno == logging.INFO and "tolerated (lenient)" in r.getMessage()
        for r in caplog.records
    )


def _comment(text: str) -> Dataset:
    ds = Dataset()
    ds.CommentsOnThePerformedProcedureStep = text
    return ds


def test_n_set_of_an_uncreated_attribute_0105_strict_accepted_lenient(scp: RunningServer) -> None:
    uid = generate_uid()
    with mpps_association(scp) as assoc:
        assert assoc.send_n_create(create_dataset(), MPPS, uid)[0].Status == 0
        use(scp, mode=STRICT)
        refused, _ = assoc.send_n_set(_comment("note"), MPPS, uid)
        assert refused.Status == 0x0105
        assert "CommentsOnThePerformedProcedureStep" in refused.ErrorComment
        assert assoc.send_n_set(completed_dataset(), MPPS, uid)[0].Status == 0  # all created
    uid2 = generate_uid()
    use(scp, mode=LENIENT)
    with mpps_association(scp) as assoc:
        assert assoc.send_n_create(create_dataset(), MPPS, uid2)[0].Status == 0
        assert assoc.send_n_set(_comment("note"), MPPS, uid2)[0].Status == 0
    assert any(t.status == "tolerated" and "Comments" in t.detail for t in traffic(scp))


@pytest.mark.parametrize("emptied", [True, False])
def test_empty_station_ae_refused_strict_filled_lenient(scp: RunningServer, emptied: bool) -> None:
    def request() -> Dataset:
        ds = create_dataset()
        if emptied:
            ds.PerformedStationAETitle = ""
        else:
            del ds.PerformedStationAETitle
        return ds

    use(scp, mode=STRICT)
    uid = generate_uid()
    with mpps_association(scp, ae_title="CT7") as assoc:
        refused, _ = assoc.send_n_create(request(), MPPS, uid)
        assert refused.Status == (0x0121 if emptied else 0x0120)
        use(scp, mode=LENIENT)
        assert assoc.send_n_create(request(), MPPS, uid)[0].Status == 0
    step = stored_step(scp, uid)
    assert step is not None and step.summary.station_ae == "CT7"


# DCMTK peers see the injected faults


def test_dcmtk_echoscu_sees_an_injected_rejection(scp: RunningServer) -> None:
    use(scp, FaultRule("association", "reject", calling_ae="ECHOSCU", reject=(1, 1, 3)))
    result = subprocess.run(
        [dcmtk("echoscu"), "-v", "-aet", "ECHOSCU", "-aec", scp.ae_title, LOOPBACK, str(scp.port)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        env=dcmtk_env(),
        check=False,
    )
    assert result.returncode != 0
    assert "Calling AE Title Not Recognized" in result.stdout + result.stderr


def test_dcmtk_findscu_sees_an_injected_failure(scp: RunningServer) -> None:
    use(scp, FaultRule("worklist", "status", status=0xA700, calling_ae="FINDSCU"))
    result = subprocess.run(
        [
            dcmtk("findscu"),
            "-v",
            "-W",
            "-aet",
            "FINDSCU",
            "-aec",
            scp.ae_title,
            "-k",
            "PatientName=*",
            LOOPBACK,
            str(scp.port),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        env=dcmtk_env(),
        check=False,
    )
    assert "Received Final Find Response (Refused: OutOfResources)" in result.stderr, result.stderr
