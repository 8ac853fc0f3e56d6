"""``mppsconsole scenario run / record`` against a real ``serve`` process.

``--to self`` means the console's own SCP: the runner shares ``serve``'s data
folder (as a user's CLI beside a running ``serve`` does), adds the scenario's
orders to that worklist, and ``self`` resolves to ``serve``'s port through the
settings file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mppsconsole.resources import DEMO_SCENARIOS, demo_scenario
from tests.e2e.conftest import DrainedServe, run_cli, steps_json

SPEED = "2000"
RUN_TIMEOUT = 90


def _config(path: Path, port: int) -> Path:
    path.write_text(f'[local]\nport = {port}\nbind_address = "127.0.0.1"\n', encoding="utf-8")
    return path


class Department:
    """A ``serve`` process and the settings that make ``self`` point at it."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True)
        self.serve = DrainedServe(self.data_dir)
        self.config = _config(root / "config.toml", self.serve.port)

    def cli(self, *args: str, timeout: float = RUN_TIMEOUT) -> Any:
        return run_cli(
            *args, "--data-dir", str(self.data_dir), "--config", str(self.config), timeout=timeout
        )

    def steps(self, direction: str) -> list[dict[str, Any]]:
        found = [s for s in steps_json(self.data_dir) if s["direction"] == direction]
        return sorted(found, key=lambda s: (s["start"], s["patient_id"]))


@pytest.fixture
def department(tmp_path: Path) -> Iterator[Department]:
    node = Department(tmp_path / "a")
    yield node
    node.serve.stop()


@pytest.mark.parametrize("name", DEMO_SCENARIOS)
def test_demo_scenario_passes_against_serve(department: Department, name: str) -> None:
    result = department.cli(
        "scenario", "run", str(demo_scenario(name)), "--to", "self", "--speed", SPEED
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "expectation(s) passed" in result.stdout
    steps = department.steps("sent")
    assert "step 1 of" in result.stdout and f"step {len(steps)} of {len(steps)}" in result.stdout
    received = department.steps("received")
    assert [s["sop_instance_uid"] for s in received] == [s["sop_instance_uid"] for s in steps]
    assert {s["status"] for s in received} == {"COMPLETED", "DISCONTINUED"}


def _shape(steps: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return sorted((s["patient_id"], s["modality"], s["status"], s["image_count"]) for s in steps)


def test_record_then_replay_reproduces_the_steps(department: Department, tmp_path: Path) -> None:
    for name in DEMO_SCENARIOS:  # a CT and an MR list: the record keeps each step's modality
        first = department.cli(
            "scenario", "run", str(demo_scenario(name)), "--to", "self", "--speed", SPEED
        )
        assert first.returncode == 0, first.stdout + first.stderr
    recorded = tmp_path / "recorded.toml"
    made = department.cli("scenario", "record", str(recorded))
    assert made.returncode == 0, made.stderr
    assert "recorded 8 step(s), 7 order(s)" in made.stdout

    other = Department(tmp_path / "b")
    try:
        replay = other.cli("scenario", "run", str(recorded), "--to", "self", "--speed", SPEED)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "FAIL" not in replay.stdout
        assert _shape(other.steps("received")) == _shape(department.steps("received"))
        assert len(other.steps("received")) == 8
    finally:
        other.serve.stop()


def test_orders_missing_on_a_remote_worklist_fail_their_expectations(
    department: Department, tmp_path: Path
) -> None:
    """Against another node the orders must already be there: here they are not."""
    modality_dir = tmp_path / "modality"
    config = tmp_path / "modality.toml"
    config.write_text(
        f'[[nodes]]\nname = "ris"\nae_title = "MPPSCONSOLE"\nhost = "127.0.0.1"\n'
        f"port = {department.serve.port}\n",
        encoding="utf-8",
    )
    result = run_cli(
        "scenario", "run", str(demo_scenario("mr-chinese-names")), "--to", "ris",
        "--speed", SPEED, "--data-dir", str(modality_dir), "--config", str(config),
        timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  order MRC0001: worklist returns it" in result.stdout
    assert "PASS  step 3: N-CREATE status 0x0000" in result.stdout  # the unscheduled one ran
    assert "expectation(s) failed" in result.stderr


def test_a_bad_scenario_file_is_exit_2_with_its_line(
    department: Department, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[patient]]\nid = "P1"\nname = "A^B"\n\n[[step]]\npatient = "P2"\n', encoding="utf-8"
    )
    result = department.cli("scenario", "run", str(bad), "--to", "self")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"mppsconsole: error: {bad}:6: [step] patient: no [[patient]] with id 'P2'"
    )
    assert department.steps("sent") == []
