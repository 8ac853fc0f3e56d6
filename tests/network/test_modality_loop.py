"""The whole scheduled workflow, modality side against our own department node.

The department node runs as ``mppsconsole serve`` (a separate process, its own
data folder); the modality is the CLI with another data folder. What the
department stored is read back through its own ``steps`` / ``worklist`` commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LOOPBACK, RunningServer, ServeProcess
from tests.network.peers import (
    MODALITY_AE,
    DcmtkServer,
    Modality,
    node_toml,
    run_in_process,
    storescp,
    wait_until,
)

DEPARTMENT_AE = "DEPARTMENT"


class Department:
    """``mppsconsole serve`` with its settings file, and its own CLI view of the store."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "department-data"
        self.data_dir.mkdir()
        self.config = root / "department.toml"
        self.config.write_text(
            f'[local]\nae_title = "{DEPARTMENT_AE}"\nbind_address = "{LOOPBACK}"\n'
            'durability = "normal"\n'
            + node_toml("modality", MODALITY_AE, 1),  # where reports would go, if needed
            encoding="utf-8",
        )
        self.process = ServeProcess(self.data_dir, self.config)
        self.port = self.process.port

    def cli(self, *args: str) -> Any:
        result = run_in_process(
            [*args, "--data-dir", str(self.data_dir), "--config", str(self.config)]
        )
        assert result.code == 0, result.stderr
        return result

    def step(self, uid: str) -> dict[str, Any]:
        data = self.cli("steps", "show", uid, "--json").json()
        assert isinstance(data, dict)
        return data

    def worklist(self) -> list[dict[str, Any]]:
        data = self.cli("worklist", "list", "--json").json()
        assert isinstance(data, list)
        return data

    def log(self) -> str:
        return (self.data_dir / "logs" / "mppsconsole.log").read_text(encoding="utf-8")

    def stop(self) -> None:
        code, err = self.process.stop()
        assert code == 0, err
        assert "Traceback" not in err, err


def modality_log(modality: Modality) -> str:
    return (modality.data_dir / "logs" / "mppsconsole.log").read_text(encoding="utf-8")


@pytest.fixture
def department(tmp_path: Path) -> Iterator[Department]:
    node = Department(tmp_path)
    yield node
    node.stop()


@pytest.fixture
def modality(tmp_path: Path, department: Department) -> Modality:
    return Modality(tmp_path, node_toml("dept", DEPARTMENT_AE, department.port))


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[DcmtkServer]:
    with storescp(tmp_path / "pacs") as server:
        yield server


def test_full_scheduled_workflow(modality: Modality, department: Department) -> None:
    # The RIS side schedules an order for our station.
    department.cli(
        "worklist",
        "add",
        "--patient-name",
        "Loop^Larry",
        "--patient-id",
        "PID-LOOP",
        "--modality",
        "CT",
        "--date",
        "today",
        "--time",
        "0900",
        "--accession",
        "ACC-LOOP",
        "--station-aet",
        MODALITY_AE,
        "--description",
        "CT thorax",
    )
    (order,) = department.worklist()

    # RAD-5: the modality finds it.
    query = ("--to", "dept", "--station-aet", MODALITY_AE, "--date", "today", "--json")
    rows = modality.ok("worklist", "query", *query).json()
    assert [r["accession_number"] for r in rows] == ["ACC-LOOP"]
    assert rows[0]["study_instance_uid"] == order["study_instance_uid"]
    assert rows[0]["scheduled_step_id"] == order["scheduled_step_id"]

    # RAD-6: in progress on both sides; the order is started.
    uid = modality.ok("mpps", "start", "--to", "dept", "--accession", "ACC-LOOP").stdout.strip()
    received = department.step(uid)
    assert received["status"] == "IN PROGRESS"
    assert received["direction"] == "received"
    assert received["calling_ae"] == MODALITY_AE
    assert received["accession_number"] == "ACC-LOOP"
    assert department.worklist()[0]["status"] == "STARTED"

    # RAD-8 + RAD-7: two images stored, then completed.
    result = modality.ok("mpps", "complete", uid, "--to", "dept", "--images", "2")
    assert result.stdout == f"{uid} COMPLETED: 1 series, 2 image(s)\n"
    received = department.step(uid)
    assert received["status"] == "COMPLETED"
    assert (received["series_count"], received["image_count"]) == (1, 2)
    held = received["instances"]
    assert len(held) == 2
    assert {i["direction"] for i in held} == {"received"}
    assert all(Path(i["path"]).is_file() for i in held)
    sent = modality.step(uid)["instances"]
    assert {i["sop_instance_uid"] for i in sent} == {i["sop_instance_uid"] for i in held}
    assert [m["command"] for m in received["messages"]] == ["N-CREATE", "N-SET"]
    assert department.worklist()[0]["status"] == "COMPLETED"

    # RAD-10: the department commits to both, reporting on the same association,
    # which the modality then releases normally.
    result = modality.ok("commit", "--to", "dept", "--mpps", uid)
    assert re.fullmatch(r"storage commitment \S+: 2 committed, 0 failed\n", result.stdout)
    # the answer is recorded on the step
    shown = modality.ok("steps", "show", uid, "--direction", "sent", "--json").json()
    (request,) = shown["commitments"]
    assert request["state"] == "committed" and len(request["committed"]) == 2
    assert request["failed"] == [] and request["step_uid"] == uid
    assert wait_until(lambda: "released by MODALITY1" in department.log().split("N-ACTION")[-1])
    assert "aborted" not in department.log()
    assert "ERROR" not in modality_log(modality)


@pytest.mark.dcmtk
def test_commit_of_instances_the_department_does_not_hold(
    modality: Modality, department: Department, pacs: DcmtkServer
) -> None:
    uid = modality.ok(
        "mpps",
        "start",
        "--to",
        "dept",
        "--unscheduled",
        "--patient-name",
        "Else^Where",
        "--patient-id",
        "PID-ELSE",
        "--modality",
        "MR",
    ).stdout.strip()
    # The images go to another archive; the department only hears of them in the N-SET.
    modality.ok(
        "mpps", "complete", uid, "--to", "dept", "--images", "2", "--store-to",
        f"{LOOPBACK}:{pacs.port}",
    )  # fmt: skip
    assert department.step(uid)["status"] == "COMPLETED"
    assert department.step(uid)["instances"] == []
    sent = {i["sop_instance_uid"] for i in modality.step(uid)["instances"]}
    assert len(sent) == 2

    result = modality.run("commit", "--to", "dept", "--mpps", uid)
    result.assert_one_line_error(1, f"{DEPARTMENT_AE} did not commit 2 of 2 instance(s)")
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"storage commitment \S+: 0 committed, 2 failed", lines[0])
    failed = [re.fullmatch(r"  failed (\S+) \((0x[0-9A-F]{4})\)", line) for line in lines[1:]]
    assert all(failed), lines
    assert {m.group(1) for m in failed if m} == sent
    assert {m.group(2) for m in failed if m} == {"0x0112"}  # no such object instance


def test_commit_of_a_step_without_instances_is_bad_input(
    modality: Modality, department: Department
) -> None:
    uid = modality.ok(
        "mpps", "start", "--to", "dept", "--unscheduled", "--patient-name", "No^Images",
        "--patient-id", "PID-0", "--modality", "CT",
    ).stdout.strip()  # fmt: skip
    result = modality.run("commit", "--to", "dept", "--mpps", uid)
    result.assert_one_line_error(2, uid, "no instances")
    unknown = modality.run("commit", "--to", "dept", "--mpps", "1.2.3.4")
    unknown.assert_one_line_error(2, "no procedure step 1.2.3.4")


def test_out_of_the_box_the_modality_talks_to_its_own_scp(
    scp: RunningServer, data_dir: Path, tmp_path: Path
) -> None:
    """One data folder, ``--to self``: the step is kept once as sent and once as received."""
    config = tmp_path / "self.toml"
    config.write_text(
        f'[local]\nae_title = "{scp.ae_title}"\nbind_address = "{LOOPBACK}"\nport = {scp.port}\n',
        encoding="utf-8",
    )

    def cli(*args: str) -> Any:
        result = run_in_process([*args, "--data-dir", str(data_dir), "--config", str(config)])
        assert result.code == 0, result.stderr
        return result

    cli("worklist", "add", "--patient-name", "Self^Sam", "--patient-id", "PID-S",
        "--modality", "DX", "--date", "today", "--accession", "ACC-SELF")  # fmt: skip
    uid = cli("mpps", "start", "--to", "self", "--accession", "ACC-SELF").stdout.strip()
    cli("mpps", "complete", uid, "--to", "self", "--images", "2")
    rows = [s for s in cli("steps", "list", "--json").json() if s["sop_instance_uid"] == uid]
    assert {(s["direction"], s["status"], s["image_count"]) for s in rows} == {
        ("sent", "COMPLETED", 2),
        ("received", "COMPLETED", 2),
    }
    assert cli("worklist", "list", "--json").json()[0]["status"] == "COMPLETED"
    result = cli("commit", "--to", "self", "--mpps", uid)
    assert re.fullmatch(r"storage commitment \S+: 2 committed, 0 failed\n", result.stdout)
