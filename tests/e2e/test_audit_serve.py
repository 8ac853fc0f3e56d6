"""``serve`` as a process: every acknowledged message is in the audit after SIGTERM,
its log file names no patient, and its data files are private."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest

from tests.e2e import peer
from tests.e2e.conftest import DrainedServe, run_cli

PATIENT = {"patient_name": "Serve^Sigrid", "patient_id": "SRV-31", "accession": "ACC-SRV-31"}


def test_clean_stop_keeps_every_acknowledged_message_in_the_audit(data_dir: Path) -> None:
    process = DrainedServe(data_dir)
    try:
        uids = [peer.new_uid() for _ in range(5)]
        for uid in uids:
            assert peer.run_step(process.port, uid, **PATIENT) == (peer.SUCCESS, peer.SUCCESS)
    finally:
        code, _, err = process.signal(signal.SIGTERM)  # right after the last answer
    assert code == 0, err

    exported = run_cli("audit", "export", "--data-dir", str(data_dir))
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    commands = [r["command"] for r in rows]
    assert commands[0] == "serve started" and commands[-1] == "serve stopped"
    for uid in uids:
        steps = [(r["command"], r["status"]) for r in rows if r["instance_uid"] == uid]
        assert steps == [("N-CREATE", "0x0000"), ("N-SET", "0x0000")], uid
    created = next(r for r in rows if r["command"] == "N-CREATE")
    assert created["patient_name"] == PATIENT["patient_name"]
    assert created["who_kind"] == "peer" and created["who"].startswith(f"{peer.CALLING_AE}@")
    assert commands.count("ASSOCIATE") == commands.count("RELEASE") == len(uids)

    log = (data_dir / "logs" / "mppsconsole.log").read_text(encoding="utf-8")
    assert uids[0] in log  # INFO lines were written ...
    for value in (*PATIENT.values(), "Sigrid"):
        assert value not in log  # ... without the patient's identifiers


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_serve_creates_private_data_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"  # serve creates it
    process = DrainedServe(data_dir)
    try:
        assert peer.run_step(process.port, peer.new_uid()) == (peer.SUCCESS, peer.SUCCESS)
    finally:
        code, _, err = process.signal(signal.SIGTERM)
    assert code == 0, err
    private = {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in (data_dir, data_dir / "logs", *data_dir.glob("*.sqlite3*"))
    }
    assert "mppsconsole.sqlite3" in private
    for name, mode in private.items():
        assert mode & 0o077 == 0, f"{name} is {oct(mode)}"
