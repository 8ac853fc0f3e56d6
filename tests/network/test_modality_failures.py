"""Failure paths of the modality side: one clear stderr line, the right exit status, no trace.

DESIGN.md §4: exit 1 for a DICOM failure status, a rejected or aborted
association or an unreachable peer; exit 2 for bad usage or input; never a
traceback. Issue 3: nothing half-written in the store, so ``steps list``
reads the same before and after every failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mppsconsole.net import association
from tests.conftest import LOOPBACK, RunningServer
from tests.network.conftest import create_step, mpps_association, stored_step
from tests.network.peers import (
    BOUND,
    Modality,
    RecordingScp,
    free_port,
    hanging_up_peer,
    recording_scp,
    run_in_process,
    silent_peer,
    verification_only_scp,
)

ORDER = (
    "worklist", "add", "--patient-name", "Fail^Fiona", "--patient-id", "PID-F",
    "--modality", "CT", "--date", "today", "--accession", "ACC-F",
)  # fmt: skip


@pytest.fixture(scope="module")
def recorder_peer() -> Iterator[RecordingScp]:
    with recording_scp() as peer:
        yield peer


@pytest.fixture
def recorder(recorder_peer: RecordingScp) -> RecordingScp:
    recorder_peer.reset()
    return recorder_peer


@pytest.fixture
def modality(tmp_path: Path, recorder: RecordingScp) -> Modality:
    node = Modality(tmp_path, recorder.node_toml("recorder"))
    node.ok(*ORDER)
    return node


@pytest.fixture
def started(modality: Modality, recorder: RecordingScp) -> str:
    """A step IN PROGRESS at the recorder; the recorder's memory of it is cleared."""
    uid = modality.ok("mpps", "start", "--to", "recorder", "--accession", "ACC-F").stdout.strip()
    recorder.reset()
    return uid


def commitment_rows(modality: Modality) -> int:
    with modality.database() as db, db.reading() as conn:
        return int(conn.execute("SELECT count(*) FROM commitments").fetchone()[0])


def history(modality: Modality, uid: str) -> list[tuple[str, str, str]]:
    return [(m["command"], m["status"], m["error_comment"]) for m in modality.step(uid)["messages"]]


# ------------------------------------------------------------------------- echo


def test_echo_success(modality: Modality, recorder: RecordingScp) -> None:
    result = modality.ok("echo", "--to", "recorder")
    assert result.stdout.startswith(f"C-ECHO RECORDER@{LOOPBACK}:{recorder.port}: success (")
    assert result.stderr == ""


def test_echo_our_own_scp(modality: Modality, scp: RunningServer) -> None:
    result = modality.ok("echo", "--to", f"{LOOPBACK}:{scp.port}", "--aec", scp.ae_title)
    assert f"C-ECHO {scp.ae_title}@{LOOPBACK}:{scp.port}: success" in result.stdout


def test_echo_rejected_by_our_own_scp(modality: Modality, scp: RunningServer) -> None:
    """Run as a process: what a user sees, and the in-process SCP's log stays out of it."""
    result = modality.run_process("echo", "--to", f"{LOOPBACK}:{scp.port}", "--aec", "WRONG")
    result.assert_one_line_error(
        1, f"association rejected by WRONG@{LOOPBACK}:{scp.port}", "Called AE title not recognised"
    )


def test_echo_rejected_repeatedly_says_rejected(modality: Modality, recorder: RecordingScp) -> None:
    """A fast rejection must never be reported as an abort (pynetdicom race, see association)."""
    for _ in range(15):
        result = modality.run("echo", "--to", f"{LOOPBACK}:{recorder.port}", "--aec", "WRONG")
        result.assert_one_line_error(1, "association rejected", "Called AE title not recognised")


def test_echo_connection_refused(modality: Modality) -> None:
    port = free_port()
    result = modality.run_process("echo", "--to", f"{LOOPBACK}:{port}")
    result.assert_one_line_error(1, f"cannot connect to {LOOPBACK}:{port}", "connection refused")


def test_echo_peer_that_never_answers(modality: Modality, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(association, "ACSE_TIMEOUT", 1.0)
    with silent_peer() as port:
        began = time.monotonic()
        result = modality.run("echo", "--to", f"{LOOPBACK}:{port}")
        elapsed = time.monotonic() - began
    result.assert_one_line_error(1, f"no answer from ANY-SCP@{LOOPBACK}:{port}", "timeout")
    assert elapsed < BOUND


def test_echo_peer_that_hangs_up(modality: Modality) -> None:
    with hanging_up_peer() as port:
        result = modality.run("echo", "--to", f"{LOOPBACK}:{port}")
    line = result.assert_one_line_error(1, f"{LOOPBACK}:{port}")
    assert "closed the connection" in line or "aborted" in line, line


def test_mpps_to_a_peer_without_mpps(modality: Modality) -> None:
    with verification_only_scp() as port:
        assert modality.ok("echo", "--to", f"{LOOPBACK}:{port}").code == 0
        result = modality.run("mpps", "start", "--to", f"{LOOPBACK}:{port}", "--accession", "ACC-F")
    result.assert_one_line_error(1, "does not accept Modality Performed Procedure Step")
    assert modality.steps() == []


# ---------------------------------------------------------- rejected association


def test_start_rejected_leaves_no_step(modality: Modality, recorder: RecordingScp) -> None:
    result = modality.run_process(
        "mpps", "start", "--to", f"{LOOPBACK}:{recorder.port}", "--aec", "WRONG",
        "--accession", "ACC-F",
    )  # fmt: skip
    result.assert_one_line_error(1, "association rejected by WRONG", "Called AE title")
    assert recorder.creates == []
    assert modality.steps() == []


def test_complete_rejected_leaves_the_step_as_it_was(
    modality: Modality, recorder: RecordingScp, started: str
) -> None:
    before = modality.steps()
    result = modality.run(
        "mpps", "complete", started, "--to", f"{LOOPBACK}:{recorder.port}", "--aec", "WRONG"
    )
    result.assert_one_line_error(1, "association rejected by WRONG")
    assert recorder.stored == [] and recorder.sets == []
    assert modality.steps() == before
    assert history(modality, started) == [("N-CREATE", "0x0000", "")]


# ------------------------------------------------------------- failure statuses


@pytest.mark.parametrize(
    ("status", "comment", "named"),
    [
        (0x0110, "Database is on fire", "0x0110 Processing Failure: Database is on fire"),
        (0x0120, "", "0x0120 Missing Attribute"),
    ],
)
def test_n_create_refused_leaves_no_step(
    modality: Modality, recorder: RecordingScp, status: int, comment: str, named: str
) -> None:
    recorder.create_failure = (status, comment)
    args = ("mpps", "start", "--to", "recorder", "--accession", "ACC-F")
    # One as a process (what a user sees), one in-process (faster).
    result = modality.run_process(*args) if comment else modality.run(*args)
    line = result.assert_one_line_error(1, "N-CREATE", "refused by RECORDER", named)
    (create,) = recorder.creates
    assert create.sop_instance_uid in line
    assert modality.steps() == []


def test_n_set_refused_keeps_the_step_in_progress(
    modality: Modality, recorder: RecordingScp, started: str
) -> None:
    before = modality.steps()
    recorder.set_failure = (0x0110, "Step locked by the RIS")
    result = modality.run("mpps", "complete", started, "--to", "recorder", "--images", "1")
    result.assert_one_line_error(
        1, f"N-SET {started} refused by RECORDER", "0x0110", "Step locked by the RIS"
    )
    assert len(recorder.stored) == 1  # the image went out before the refused N-SET
    assert modality.steps() == before
    assert before[0]["status"] == "IN PROGRESS"
    assert history(modality, started) == [
        ("N-CREATE", "0x0000", ""),
        ("N-SET", "0x0110", "Step locked by the RIS"),
    ]

    # Once the peer takes it, the same step completes with the image already sent.
    recorder.set_failure = None
    modality.ok("mpps", "complete", started, "--to", "recorder", "--images", "0")
    (n_set,) = recorder.sets[1:]
    (series,) = n_set.dataset.PerformedSeriesSequence
    assert [r.ReferencedSOPInstanceUID for r in series.ReferencedImageSequence] == [
        recorder.stored[0].sop_instance_uid
    ]
    (step,) = modality.steps()
    assert step["status"] == "COMPLETED"
    assert [h[:2] for h in history(modality, started)] == [
        ("N-CREATE", "0x0000"),
        ("N-SET", "0x0110"),
        ("N-SET", "0x0000"),
    ]


def test_discontinue_refused_keeps_the_step_in_progress(
    modality: Modality, recorder: RecordingScp, started: str
) -> None:
    before = modality.steps()
    recorder.set_failure = (0x0110, "Not now")
    result = modality.run("mpps", "discontinue", started, "--to", "recorder")
    result.assert_one_line_error(1, "N-SET", "0x0110", "Not now")
    assert modality.steps() == before
    assert history(modality, started)[-1] == ("N-SET", "0x0110", "Not now")


def test_c_store_refused_stops_before_the_n_set(
    modality: Modality, recorder: RecordingScp, started: str
) -> None:
    before = modality.steps()
    recorder.store_failure = (0xA700, "Disk full")
    result = modality.run("mpps", "complete", started, "--to", "recorder", "--images", "2")
    result.assert_one_line_error(1, "C-STORE of image 1 of 2 refused by RECORDER", "Disk full")
    assert recorder.sets == []
    assert modality.steps() == before
    assert history(modality, started) == [("N-CREATE", "0x0000", "")]
    assert modality.step(started)["instances"] == []


# --------------------------------------------------------------- unreachable peer


def test_unreachable_peer_for_every_command(
    modality: Modality, recorder: RecordingScp, started: str
) -> None:
    modality.ok("send-images", "--to", "recorder", "--mpps", started, "--count", "1")
    before, commitments_before = modality.steps(), commitment_rows(modality)
    history_before = history(modality, started)
    to = ("--to", f"{LOOPBACK}:{free_port()}")
    for command in (
        ("echo",),
        ("worklist", "query"),
        ("mpps", "start", "--accession", "ACC-F"),
        ("mpps", "start", "--unscheduled", "--patient-name", "A^B", "--patient-id", "P",
         "--modality", "MR"),
        ("mpps", "complete", started, "--images", "0"),
        ("mpps", "complete", started, "--images", "2"),
        ("mpps", "discontinue", started),
        ("send-images", "--accession", "ACC-F", "--count", "2"),
        ("send-images", "--mpps", started, "--count", "1"),
        ("commit", "--mpps", started),
    ):  # fmt: skip
        result = modality.run(*command, *to)
        result.assert_one_line_error(1, f"cannot connect to {to[1]}", "connection refused")
    assert modality.steps() == before
    assert history(modality, started) == history_before
    assert commitment_rows(modality) == commitments_before
    with modality.database() as db, db.reading() as conn:
        assert conn.execute("SELECT count(*) FROM instances").fetchone()[0] == 1


# -------------------------------------------------------------------- bad input


def test_unknown_accession(modality: Modality, recorder: RecordingScp) -> None:
    result = modality.run("mpps", "start", "--to", "recorder", "--accession", "NOPE")
    result.assert_one_line_error(2, "no worklist item with accession 'NOPE'")
    assert recorder.creates == []
    assert modality.steps() == []


@pytest.mark.parametrize("action", ["complete", "discontinue"])
def test_unknown_step(modality: Modality, recorder: RecordingScp, action: str) -> None:
    result = modality.run("mpps", action, "1.2.826.0.1.999", "--to", "recorder")
    result.assert_one_line_error(2, "no procedure step 1.2.826.0.1.999")
    assert recorder.sets == []


def test_a_received_step_cannot_be_completed_from_here(
    recorder: RecordingScp, scp: RunningServer, data_dir: Path, tmp_path: Path
) -> None:
    """Only steps this console sent can be completed or discontinued from it."""
    with mpps_association(scp) as assoc:
        uid = create_step(assoc)  # an independent modality's step, received by our SCP
    shared = Modality(tmp_path, recorder.node_toml("recorder"))
    for action in ("complete", "discontinue"):
        # The modality side working on the SCP's own store, as the window does.
        result = run_in_process(
            ["mpps", action, uid, "--to", "recorder", "--data-dir", str(data_dir),
             "--config", str(shared.config)]
        )  # fmt: skip
        result.assert_one_line_error(2, f"no procedure step {uid} sent from this console")
    assert recorder.sets == []
    assert stored_step(scp, uid) is not None


@pytest.mark.parametrize(
    "to", ["nowhere", f"{LOOPBACK}:0", f"{LOOPBACK}:70000", f"{LOOPBACK}:", ":104", "a:b"]
)
def test_bad_to(modality: Modality, to: str) -> None:
    for command in (("echo",), ("mpps", "start", "--accession", "ACC-F")):
        result = modality.run(*command, "--to", to)
        result.assert_one_line_error(2, f"--to {to!r}", "HOST:PORT", "recorder")
    assert modality.steps() == []


def test_bad_called_ae(modality: Modality) -> None:
    result = modality.run("echo", "--to", "recorder", "--aec", "A" * 17)
    result.assert_one_line_error(2, "invalid called AE title")
    result = modality.run("echo", "--to", "recorder", "--aet", "BAD\\AE")
    result.assert_one_line_error(2, "invalid calling AE title")


def test_usage_errors_exit_2(modality: Modality) -> None:
    for args in (
        ("mpps", "start", "--accession", "ACC-F"),  # no --to
        ("mpps", "complete", "--to", "recorder"),  # no UID
        ("mpps", "complete", "1.2.3", "--to", "recorder", "--images", "many"),
        ("send-images", "--to", "recorder", "--count", "1"),  # neither --accession nor --mpps
    ):
        result = modality.run(*args)
        assert result.code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert modality.steps() == []
