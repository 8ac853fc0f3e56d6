"""``mppsconsole audit export`` and the audit records of CLI commands, against our own SCP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mppsconsole.core import audit
from tests.conftest import LOOPBACK, RunningServer
from tests.network.peers import run_in_process

PATIENT = ("Cli^Carla", "CLI-9", "ACC-CLI")


def cli(data_dir: Path, *args: str) -> Any:
    return run_in_process([*args, "--data-dir", str(data_dir)])


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_cli_actions_are_audited_and_exported_as_json_lines(
    scp: RunningServer, data_dir: Path, tmp_path: Path
) -> None:
    name, pid, accession = PATIENT
    added = cli(
        data_dir,
        *("worklist", "add", "--patient-name", name, "--patient-id", pid),
        *("--modality", "CT", "--date", "today", "--accession", accession),
    )
    assert added.code == 0, added.stderr
    to = f"{LOOPBACK}:{scp.port}"
    started = cli(
        data_dir, "mpps", "start", "--to", to, "--aec", scp.ae_title, "--accession", accession
    )
    assert started.code == 0, started.stderr
    uid = started.stdout.strip()
    unknown = cli(data_dir, "mpps", "complete", "1.2.3.999", "--to", to, "--aec", scp.ae_title)
    assert unknown.code == 2

    out = tmp_path / "audit.jsonl"
    exported = cli(data_dir, "audit", "export", "-o", str(out))
    assert exported.code == 0, exported.stderr
    rows = lines(out.read_text(encoding="utf-8"))
    assert all(list(row) == list(rows[0]) for row in rows)  # stable keys, one object a line
    assert list(rows[0]) == list(audit.manual(audit.EXPORT, "R", "x").to_json())
    by_command = {row["command"]: row for row in rows}
    add = by_command["cli worklist add"]
    assert (add["event_type"], add["event_code"], add["action"], add["outcome"]) == (
        "Order Record",
        "110109",
        "C",
        0,
    )
    assert (add["who_kind"], add["patient_name"], add["patient_id"], add["accession"]) == (
        "user",
        name,
        pid,
        accession,
    )
    start = by_command["cli mpps start"]
    assert (start["event_code"], start["outcome"], start["peer"]) == ("110111", 0, to)
    failed = by_command["cli mpps complete"]
    assert (failed["outcome"], failed["status"], failed["instance_uid"]) == (
        4,
        "bad input",
        "1.2.3.999",
    )
    assert uid  # the step itself is in the SCP's records, not audited here (no trail attached)

    anonymous = cli(data_dir, "audit", "export", "--deidentify")
    assert anonymous.code == 0, anonymous.stderr
    anon_rows = lines(anonymous.stdout)
    assert len(anon_rows) == len(rows) + 1  # the first export audited itself
    for needle in (*PATIENT, "Carla"):
        assert needle not in anonymous.stdout
    anon_add = next(r for r in anon_rows if r["command"] == "cli worklist add")
    assert anon_add["patient_id"].startswith("anon-")


def test_time_range_and_bad_dates(data_dir: Path) -> None:
    assert cli(data_dir, "worklist", "list").code == 0  # one audited read
    future = cli(data_dir, "audit", "export", "--since", "2999-01-01")
    assert future.code == 0 and future.stdout == ""
    past = cli(data_dir, "audit", "export", "--until", "2000-01-01T00:00:00+00:00")
    assert past.code == 0 and past.stdout == ""
    recent = lines(cli(data_dir, "audit", "export", "--since", "2000-01-01").stdout)
    assert [r["command"] for r in recent] == ["cli worklist list", "audit export", "audit export"]
    bad = cli(data_dir, "audit", "export", "--since", "yesterday")
    assert bad.code == 2 and "ISO 8601" in bad.stderr


def test_test_data_and_queue_commands_are_audited_too(data_dir: Path) -> None:
    generated = cli(data_dir, "worklist", "generate", "3", "--seed", "7", "--import")
    assert generated.code == 0, generated.stderr
    queue = cli(data_dir, "mpps", "queue", "list")
    assert queue.code == 0, queue.stderr
    rows = lines(cli(data_dir, "audit", "export").stdout)
    by_command = {row["command"]: row for row in rows}
    made = by_command["cli worklist generate"]
    assert (made["event_type"], made["action"], made["outcome"], made["who_kind"]) == (
        "Order Record",
        "C",
        0,
        "user",
    )
    listed = by_command["cli mpps queue"]
    assert (listed["event_type"], listed["outcome"]) == ("Procedure Record", 0)
